#!/usr/bin/env python3
"""Extract Jane Austen's six novels from the R package janeaustenr (Debian r-cran-janeaustenr)
without R: its data directory is an R lazy-load database (Rdata.rdx index + Rdata.rdb blobs),
each blob an R serialization (XDR, format version 2 or 3) of a character vector, one element per
line of the novel.

    python3 tools/fetch_austen.py DATA_DIR OUT.txt

Format facts used (R Internals manual, "Serialization Formats" and "Lazy loading"):
  * .rdx: gzip of a serialized list(variables=, references=, compressed=); `variables` is a
    named list of integer pairs (offset, length) into the .rdb.
  * .rdb blob: 4-byte big-endian uncompressed length, then (compressed=TRUE) a zlib stream, or
    (compressed=2/3) a type byte 'Z' zlib / '2' bzip2 / 'X' xz / '0' none, then the stream.
  * serialization: "X\\n", version, writer version, min reader version, (v3) native encoding;
    then items: a flags int (type in the low byte, object bit 8, attribute bit 9, tag bit 10).
"""
import bz2
import gzip
import lzma
import os
import struct
import sys
import zlib

NOVELS = ["sensesensibility", "prideprejudice", "mansfieldpark", "emma", "northangerabbey", "persuasion"]


class RReader:
    """Just enough of R's unserialize for data: vectors, strings, pairlists, symbols, refs."""

    def __init__(self, data):
        self.d = data
        self.p = 0
        self.refs = []
        if self.d[:2] != b"X\n":
            raise ValueError("not an XDR R serialization (want 'X\\n', got %r)" % self.d[:2])
        self.p = 2
        version = self.int()
        self.int()  # writer R version
        self.int()  # minimal reader version
        if version == 3:
            n = self.int()
            self.p += n  # native encoding name
        elif version != 2:
            raise ValueError("R serialization version %d is not supported" % version)

    def int(self):
        v = struct.unpack_from(">i", self.d, self.p)[0]
        self.p += 4
        return v

    def length(self):
        n = self.int()
        if n == -1:  # long vector: two more ints
            hi, lo = self.int(), self.int()
            n = (hi << 32) + lo
        return n

    def item(self):
        flags = self.int()
        t = flags & 0xFF
        has_attr, has_tag = bool(flags & (1 << 9)), bool(flags & (1 << 10))
        if t in (254, 253, 252, 251, 250, 242, 241):  # NULL, environments, markers
            return None
        if t == 255:  # REFSXP
            idx = flags >> 8
            if idx == 0:
                idx = self.int()
            return self.refs[idx - 1]
        if t in (247, 248, 249):  # PERSIST / PACKAGE / NAMESPACE: a string vector
            if self.int() != 0:
                raise ValueError("bad string vector")
            v = [self.item() for _ in range(self.int())]
            self.refs.append(v)
            return v
        if t == 1:  # SYMSXP
            name = self.item()
            self.refs.append(name)
            return name
        if t in (2, 3, 5, 6, 17, 239, 240):  # pairlist-like: attr?, tag?, car, cdr
            out = []
            while True:
                if has_attr:
                    self.item()
                tag = self.item() if has_tag else None
                out.append((tag, self.item()))
                nxt = self.int()  # the cdr, usually the next pairlist cell or NULL
                nt = nxt & 0xFF
                if nt == 254:
                    return out
                if nt not in (2, 239):
                    self.p -= 4
                    out.append((None, self.item()))
                    return out
                has_attr, has_tag = bool(nxt & (1 << 9)), bool(nxt & (1 << 10))
        if t == 9:  # CHARSXP
            n = self.int()
            if n == -1:
                return None  # NA_character_
            s = self.d[self.p : self.p + n]
            self.p += n
            enc = "latin-1" if flags & (1 << 14) else "utf-8"  # LATIN1_MASK = 1 << 2 in levels
            return s.decode(enc, errors="replace")
        if t in (10, 13):  # LGLSXP, INTSXP
            n = self.length()
            v = list(struct.unpack_from(">%di" % n, self.d, self.p))
            self.p += 4 * n
        elif t == 14:  # REALSXP
            n = self.length()
            v = list(struct.unpack_from(">%dd" % n, self.d, self.p))
            self.p += 8 * n
        elif t == 16:  # STRSXP
            v = [self.item() for _ in range(self.length())]
        elif t in (19, 20):  # VECSXP, EXPRSXP
            v = [self.item() for _ in range(self.length())]
        else:
            raise ValueError("R type %d is not supported by this reader" % t)
        if has_attr:
            attrs = self.item()
            names = dict((k, val) for k, val in attrs).get("names") if attrs else None
            if names is not None and len(names) == len(v):
                return dict(zip(names, v))
        return v


def read_blob(rdb, offset, length, compressed):
    blob = rdb[offset : offset + length]
    n = struct.unpack_from(">I", blob, 0)[0]
    if compressed in (True, 1):
        raw = zlib.decompress(blob[4:])
    else:
        kind, body = blob[4:5], blob[5:]
        raw = {b"Z": zlib.decompress, b"2": bz2.decompress, b"X": lzma.decompress, b"0": bytes}[kind](body)
    if len(raw) != n:
        raise ValueError("blob at %d: %d bytes, header says %d" % (offset, len(raw), n))
    return raw


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: fetch_austen.py DATA_DIR OUT.txt")
    data_dir, out = sys.argv[1], sys.argv[2]
    with gzip.open(os.path.join(data_dir, "Rdata.rdx")) as f:
        index = RReader(f.read()).item()
    with open(os.path.join(data_dir, "Rdata.rdb"), "rb") as f:
        rdb = f.read()
    compressed = index["compressed"][0]
    variables = index["variables"]
    texts = []
    for name in NOVELS:
        if name not in variables:
            sys.exit("fetch_austen.py: %s is not in %s (has: %s)" % (name, data_dir, ", ".join(variables)))
        off, length = variables[name]
        lines = RReader(read_blob(rdb, off, length, compressed)).item()
        texts.append("\n".join("" if s is None else s for s in lines))
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n\n".join(texts) + "\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
