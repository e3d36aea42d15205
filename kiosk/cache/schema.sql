-- Bundle database schema, format_version 1, schema revision 2 (meta.schema_revision = '2').
-- Revision 1 (schema-r1.sql) is this file without the revision-2 tables at the end; kiosks
-- that know only revision 1 read revision-2 bundles and ignore the new tables.
-- The database is the interchange format: a county platform may build it without our code
-- (docs/bundle-format.md). Built once on the county side, opened read-only (immutable) on kiosks.
-- Amounts: TEXT is the exact decimal string in 元 with two places ("1234.50", "-80.00");
-- *_fen is the same amount as an integer number of 分, for exact SUM().
-- Dates: TEXT, ISO 8601 (YYYY-MM-DD). Person names here are already as shown on public
-- screens: private persons masked (张*三, 张*), officials in office in full.
-- Every record table carries village_code: one bundle may hold a village, a township or a
-- county (manifest scope = 12/9/6-digit code; one villages row per village covered).
-- seq is the display order (assigned at build); id is the stable record id from the source.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
-- keys: format_version, scope, data_as_of, built_at, id_hash_algo, id_hash_salt (hex),
--       id_hash_n, id_hash_r, id_hash_p, id_hash_dklen, power_list_sample ('1' when 示例),
--       schema_revision ('2'; absent = 1), rules_source ('rules.json' | 'defaults')

CREATE TABLE villages (
    code           TEXT PRIMARY KEY,      -- 12-digit statistical code
    name           TEXT NOT NULL,         -- display name: 石坝村 (not 石坝村委会)
    official_name  TEXT NOT NULL,         -- statistical name as published
    township_code  TEXT NOT NULL,
    township_name  TEXT NOT NULL,
    county_code    TEXT NOT NULL,
    county_name    TEXT NOT NULL,
    profile_json   TEXT NOT NULL          -- contacts, complaint channels, figures (docs/data-model.md)
) WITHOUT ROWID;

CREATE TABLE accounts (
    code        TEXT PRIMARY KEY,         -- 3-digit first-level code or a sub-account (51301)
    name        TEXT NOT NULL,            -- 科目名称 as in the books
    plain_name  TEXT NOT NULL,            -- plain words for villagers
    parent_code TEXT NOT NULL             -- first-level code (itself for first-level)
) WITHOUT ROWID;

CREATE TABLE finance (                    -- 财务收支, one row per voucher line
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    village_code   TEXT NOT NULL,
    date           TEXT NOT NULL,
    voucher_no     TEXT NOT NULL,         -- 凭证号
    summary        TEXT NOT NULL,         -- 摘要
    account_code   TEXT NOT NULL,         -- 科目
    account_name   TEXT NOT NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('income', 'expense')),
    amount         TEXT NOT NULL,
    amount_fen     INTEGER NOT NULL,
    handler        TEXT NOT NULL,         -- 经手人 (official, full)
    reviewer       TEXT NOT NULL,         -- 审核人 (监委, full)
    approver       TEXT NOT NULL,         -- 审批人 (official, full)
    approval_level TEXT NOT NULL,         -- 两委 | 两委+监委 | 四议两公开
    attachments    INTEGER NOT NULL,      -- 附件张数
    reverses_id    TEXT                   -- 红字冲销: id of the line this reverses
);
CREATE INDEX finance_by_date ON finance (village_code, date, seq);

CREATE TABLE projects (                   -- 工程项目
    seq                INTEGER PRIMARY KEY,
    id                 TEXT NOT NULL UNIQUE,
    village_code       TEXT NOT NULL,
    name               TEXT NOT NULL,
    category           TEXT NOT NULL,
    location           TEXT NOT NULL,
    budget             TEXT NOT NULL,
    review_amount      TEXT,              -- 造价评审 amount
    fund_sources_json  TEXT NOT NULL,     -- [{"source": str, "amount": "decimal"}]
    procurement_method TEXT NOT NULL,
    contractor         TEXT,              -- organisation, full
    contract_amount    TEXT,
    settlement_amount  TEXT,              -- 审计结算
    supervisors_json   TEXT NOT NULL,     -- ["name (role)"], officials, full
    stage              TEXT NOT NULL,     -- latest stage reached
    started_on         TEXT NOT NULL      -- 立项 date
);
CREATE INDEX projects_by_date ON projects (village_code, started_on, seq);

CREATE TABLE project_stages (
    project_id TEXT NOT NULL REFERENCES projects (id),
    ord        INTEGER NOT NULL,          -- 0..7 in the canonical order 立项..公示
    stage      TEXT NOT NULL,
    date       TEXT NOT NULL,
    note       TEXT NOT NULL,
    PRIMARY KEY (project_id, ord)
) WITHOUT ROWID;

CREATE TABLE assets (                     -- 资产资源
    seq               INTEGER PRIMARY KEY,
    id                TEXT NOT NULL UNIQUE,
    village_code      TEXT NOT NULL,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL CHECK (kind IN ('资产', '资源')),
    category          TEXT NOT NULL,
    area              TEXT,
    area_unit         TEXT,
    status            TEXT NOT NULL,
    counterparty      TEXT,               -- masked when a private person
    disposal_method   TEXT,               -- 公开竞价 | 协商 | ...
    reserve_price     TEXT,               -- 底价
    reserve_review    TEXT,               -- how the reserve price was reviewed
    deal_price        TEXT,
    term_start        TEXT,
    term_end          TEXT,
    annual_rent       TEXT,
    deposit           TEXT
);
CREATE INDEX assets_by_kind ON assets (village_code, kind, seq);

CREATE TABLE services (                   -- 办事结果
    seq              INTEGER PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    village_code     TEXT NOT NULL,
    power_id         TEXT NOT NULL,
    power_name       TEXT NOT NULL,
    applicant        TEXT NOT NULL,       -- masked
    group_name       TEXT NOT NULL,       -- 村民小组
    result           TEXT NOT NULL,
    decided_on       TEXT NOT NULL,
    notice_from      TEXT,                -- 公示 period
    notice_to        TEXT,
    steps_json       TEXT NOT NULL,       -- [{"step": str, "date": "YYYY-MM-DD", "note": str}]
    applicant_key    TEXT NOT NULL        -- hex scrypt hash of the applicant's ID number
);
CREATE INDEX services_by_date ON services (village_code, decided_on, seq);
CREATE INDEX services_by_key ON services (applicant_key);

CREATE TABLE powers (                     -- 权力清单
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    village_code TEXT NOT NULL,
    class        TEXT NOT NULL CHECK (class IN ('重大决策', '日常管理', '便民服务')),
    no           INTEGER NOT NULL,
    name         TEXT NOT NULL,
    basis        TEXT NOT NULL,           -- policy basis
    executor     TEXT NOT NULL,           -- executing body
    supervisor   TEXT NOT NULL,           -- supervising body
    materials    TEXT,                    -- 所需材料
    time_limit   TEXT,                    -- 办理时限
    sample       INTEGER NOT NULL         -- 1 = 示例 (not yet supplied by the county)
);

CREATE TABLE power_steps (
    power_id TEXT NOT NULL REFERENCES powers (id),
    step_id  TEXT NOT NULL,
    ord      INTEGER NOT NULL,
    label    TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('start', 'step', 'decision', 'end')),
    PRIMARY KEY (power_id, step_id)
) WITHOUT ROWID;

CREATE TABLE power_edges (
    power_id TEXT NOT NULL REFERENCES powers (id),
    src      TEXT NOT NULL,
    dst      TEXT NOT NULL,
    label    TEXT NOT NULL,               -- '' or a branch label such as 通过 / 不通过
    PRIMARY KEY (power_id, src, dst)
) WITHOUT ROWID;

CREATE TABLE payments (                   -- 到户资金
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    village_code   TEXT NOT NULL,
    holder_key     TEXT NOT NULL,         -- hex scrypt hash of the holder's ID number
    holder         TEXT NOT NULL,         -- masked
    household_head TEXT NOT NULL,         -- masked
    item           TEXT NOT NULL,
    period         TEXT NOT NULL,         -- YYYY-MM, YYYY or YYYY-MM/YYYY-MM
    paid_on        TEXT NOT NULL,
    amount         TEXT NOT NULL,
    amount_fen     INTEGER NOT NULL,
    basis          TEXT NOT NULL
);
CREATE INDEX payments_by_key ON payments (holder_key, paid_on);

-- Search over exactly what public screens show (payments are never indexed: card holder only).
-- body holds each shown field's characters with a space between them, fields separated by
-- the token '|' (kiosk/search.py index_body), so FTS5's unicode61 tokenizer indexes single
-- characters and a phrase query matches any substring of one field, 1 and 2 characters
-- included (trigram cannot). '*' is a token character: 张三 does not match the masked 张*三.
-- initials: pinyin initials of the person names shown in the record (masked 张*三 → 'zs',
-- every reading of a polyphonic character; never of a hidden character), space-separated.
-- year: four digits of the record's date ('' when none). rowid: a village's rows are
-- contiguous (written village by village), see search_span.
CREATE VIRTUAL TABLE search USING fts5 (
    kind UNINDEXED, record_id UNINDEXED, village_code UNINDEXED, title UNINDEXED, body, initials, year,
    tokenize = "unicode61 tokenchars '|*'"
);

-- Per village and kind: the rowid range of its rows in search (a village's rows are written
-- contiguously, kind by kind), so a kiosk restricts a MATCH to one village and kind by rowid
-- (FTS5 seeks) instead of filtering every match of a township or county bundle.
CREATE TABLE search_span (
    village_code TEXT NOT NULL,
    kind         TEXT NOT NULL,           -- finance | projects | assets | services | powers
    first_rowid  INTEGER NOT NULL,
    last_rowid   INTEGER NOT NULL,
    PRIMARY KEY (village_code, kind)
) WITHOUT ROWID;

-- The tap-search grids of each village: facet 'surname' (of the masked names shown, records
-- per surname), 'word' (common words, kiosk/search.py WORDS, records containing it), 'year'
-- (records per year), 'category' (project/asset categories, power classes); at most 30 each.
CREATE TABLE search_terms (
    village_code TEXT NOT NULL,
    facet        TEXT NOT NULL CHECK (facet IN ('surname', 'word', 'year', 'category')),
    term         TEXT NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (village_code, facet, term)
) WITHOUT ROWID;

-- ---------------------------------------------------------------- revision 2: supervision rules
-- What the rules read beyond revision 1's columns, the county's rule table, what each rule
-- could check per village, and the flags (records that break a rule) with the county's 说明.
-- Computed when the bundle is built, so what a kiosk shows is signed; `kiosk flags check`
-- recomputes the flags from these tables (docs/rules.md).

CREATE TABLE finance_payment (            -- how and for what a finance line was paid
    finance_id      TEXT PRIMARY KEY REFERENCES finance (id),
    payment_method  TEXT CHECK (payment_method IN ('现金', '转账')),  -- NULL: not stated
    project_id      TEXT,                 -- the project it pays (or funds)
    project_payment TEXT,                 -- 预付款 | 进度款 | 结算款 | 质保金
    asset_id        TEXT                  -- the asset whose rent it is
) WITHOUT ROWID;

CREATE TABLE asset_terms (                -- bidders and rent schedule of an asset
    asset_id          TEXT PRIMARY KEY REFERENCES assets (id),
    bidders           INTEGER,            -- 竞买人数 of its deal; NULL: not stated
    rent_first_due    TEXT,               -- first rent due date
    rent_every_months INTEGER             -- then every N months
) WITHOUT ROWID;

CREATE TABLE rules (                      -- the county's rule table (rules.json or defaults)
    id          TEXT PRIMARY KEY,         -- approval_level, cash_payment, ... (kiosk/rules)
    ord         INTEGER NOT NULL,         -- list order
    title       TEXT NOT NULL,            -- short name: 审批程序与金额不符
    kind        TEXT NOT NULL,            -- the record kind it flags
    enabled     INTEGER NOT NULL,         -- 0: the county switched it off
    text        TEXT NOT NULL,            -- the rule in plain words with the county's numbers
    basis       TEXT NOT NULL,            -- document and article
    ask         TEXT NOT NULL,            -- whom to ask
    params_json TEXT NOT NULL             -- the numbers: {"two_committees_below": "5000.00", ...}
) WITHOUT ROWID;

CREATE TABLE rule_coverage (              -- per village: how much each rule could check
    village_code TEXT NOT NULL,
    rule_id      TEXT NOT NULL,
    as_of        TEXT NOT NULL,           -- the date the rules took as today (village data_as_of)
    checked      INTEGER NOT NULL,        -- records the rule looked at
    missing      INTEGER NOT NULL,        -- records it could not judge (a field the export lacks)
    reason       TEXT,                    -- Chinese: what is missing; NULL when nothing
    PRIMARY KEY (village_code, rule_id)
) WITHOUT ROWID;

CREATE TABLE flags (                      -- 监督提示: one row per record and rule it breaks
    seq          INTEGER PRIMARY KEY,     -- list order: village, rule, newest record first
    village_code TEXT NOT NULL,
    rule_id      TEXT NOT NULL,
    severity     TEXT NOT NULL CHECK (severity IN ('red', 'amber')),
    kind         TEXT NOT NULL,           -- finance | projects | assets | services | village
    record_id    TEXT NOT NULL,           -- the record (village: the village code)
    title        TEXT NOT NULL,           -- the record as lists show it (names masked)
    record_date  TEXT NOT NULL,           -- ISO date or ''
    figures_json TEXT NOT NULL,           -- the values that triggered it: {"amount": "86000.00", ...}
    detail       TEXT NOT NULL,           -- the same figures in one Chinese sentence
    note         TEXT,                    -- 说明 the county attached (explanations.jsonl)
    note_by      TEXT,                    -- who gave it
    note_date    TEXT,
    UNIQUE (kind, record_id, rule_id)
);
CREATE INDEX flags_by_village ON flags (village_code, seq);
CREATE INDEX flags_by_rule ON flags (village_code, rule_id, seq);
