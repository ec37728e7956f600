#!/usr/bin/env python3
"""Copies docs/openapi.json (the hand-written API document) into the Swift source that `cwauth serve`
serves at /api/openapi.json. Run after editing the document; CWAuthServerTests fails while they differ."""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
text = (ROOT / "docs/openapi.json").read_text(encoding="utf-8")
if '"""#' in text:
    raise SystemExit("docs/openapi.json contains '\"\"\"#', which would end the Swift raw string")
swift = (
    "// Generated from docs/openapi.json by scripts/embed_openapi.py: edit the JSON, then run the script.\n"
    "// A test checks that this text equals the file byte for byte and covers every route.\n\n"
    "enum OpenAPIDocument {\n"
    "    static let text = #\"\"\"\n"
    + "".join("    " + line if line.strip() else line for line in text.splitlines(keepends=True))
    + "\n    \"\"\"#\n"
    "}\n"
)
(ROOT / "Sources/CWAuthServer/OpenAPIDocument.swift").write_text(swift, encoding="utf-8")
