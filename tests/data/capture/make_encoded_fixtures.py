#!/usr/bin/env python3
"""Write the fixtures whose bytes are not UTF-8 (or not valid), from sources kept in this folder.

Run from this folder: python3 make_encoded_fixtures.py. The outputs are committed; this script says how they were
made and lets them be remade byte for byte.
"""

# arabic-1256.html: the UTF-8 source encoded with Python's cp1256 codec (strict: every character must exist in it).
with open("arabic-1256.utf8.html", encoding="utf-8") as f:
    source = f.read()
with open("arabic-1256.html", "wb") as f:
    f.write(source.encode("cp1256"))

# latin1.html: declared iso-8859-1, which HTML decodes as windows-1252; 0x93 and 0x94 are curly quotes there (and
# C1 controls in ISO-8859-1 proper), 0xE9 is é in both.
latin1 = (
    '<!DOCTYPE html>\n<html lang="fr">\n<head>\n<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">\n'
    "<title>Communiqu\xe9 de la mairie</title>\n</head>\n<body>\n<main>\n"
    "<h1>Communiqu\xe9 de la mairie</h1>\n"
    "<p>Le conseil municipal a adopt\xe9 hier soir le budget de l\x92ann\xe9e 2026, apr\xe8s un d\xe9bat de trois heures.</p>\n"
    "<p>Le maire a d\xe9clar\xe9 : \x93Ce budget prot\xe8ge les services publics sans augmenter les imp\xf4ts.\x94</p>\n"
    "</main>\n</body>\n</html>\n"
)
with open("latin1.html", "wb") as f:
    f.write(latin1.encode("latin-1"))

# unknown-charset.html: a label no encoding standard knows.
with open("unknown-charset.html", "wb") as f:
    f.write(
        b'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="x-klingon">\n<title>Unknown charset</title>\n</head>\n'
        b"<body>\n<p>This page declares a charset that does not exist, so its bytes cannot be read.</p>\n</body>\n</html>\n"
    )

# bad-utf8.html: declared UTF-8, with an invalid byte (0xFF) and a truncated sequence (0xC3 followed by ASCII).
with open("bad-utf8.html", "wb") as f:
    f.write(
        b'<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n<title>Bad UTF-8</title>\n</head>\n'
        b"<body>\n<p>These bytes are not UTF-8: \xff and \xc3( although the page says they are.</p>\n</body>\n</html>\n"
    )
