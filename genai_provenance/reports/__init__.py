"""One renderer per output format; renderers return text and never print."""
