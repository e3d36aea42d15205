"""The county side of the bundle format: build and sign bundles (:mod:`.build`) and lay them
out for a web server or a USB stick (:mod:`.publish`). Kiosks never import this package."""
