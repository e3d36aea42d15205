"""Read-aloud pipeline, offline and without Kivy: text as shown → spoken Chinese
(:mod:`.normalise`) → tone-numbered pinyin (:mod:`.pinyin`) → a WAV from espeak-ng's
``cmn-latn-pinyin`` voice (:mod:`.synth`).

Why pinyin and not Chinese characters: espeak-ng's ``cmn`` voice reads characters as
English-spelled pinyin (espeak-ng issues 1236 and 1028), and its ``cmn-latn-pinyin`` voice
misreads polyphones (银行 yin2 xing2, 还款 hai2); given tone-numbered pinyin it is right.
docs/speech.md has the voices compared and the choice.
"""
