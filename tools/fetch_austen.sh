#!/bin/sh
# Writes Jane Austen's six novels (Sense and Sensibility, Pride and Prejudice, Mansfield Park,
# Emma, Northanger Abbey, Persuasion; public domain, from Project Gutenberg via the R package
# janeaustenr) as one UTF-8 text to ~/.cache/vkstream/text/austen.txt and prints its path.
# The long-stream perplexity study (docs/STREAMING.md) runs on it. Never commit the text.
#
# Source: the Debian package r-cran-janeaustenr (installed here if missing, as root). Its data
# is an R lazy-load database; tools/fetch_austen.py reads it without R. If that fails and R is
# installed, R itself extracts the text.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out_dir="${VKS_TEXT_DIR:-$HOME/.cache/vkstream/text}"
out="$out_dir/austen.txt"
if [ -s "$out" ]; then echo "$out"; exit 0; fi

if ! dpkg -s r-cran-janeaustenr >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "fetch_austen: installing r-cran-janeaustenr" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends r-cran-janeaustenr >&2
    else
        echo "fetch_austen: r-cran-janeaustenr is not installed: sudo apt-get install r-cran-janeaustenr" >&2
        exit 1
    fi
fi
rdx=$(dpkg -L r-cran-janeaustenr | grep '/data/Rdata.rdx$' | head -n 1)
if [ -z "$rdx" ]; then echo "fetch_austen: no data/Rdata.rdx in r-cran-janeaustenr" >&2; exit 1; fi
data_dir=$(dirname "$rdx")
mkdir -p "$out_dir"
if ! python3 "$here/fetch_austen.py" "$data_dir" "$out"; then
    command -v Rscript >/dev/null || { echo "fetch_austen: the Python reader failed and R is not installed" >&2; exit 1; }
    echo "fetch_austen: the Python reader failed; extracting with R" >&2
    Rscript -e 'library(janeaustenr); b <- list(sensesensibility, prideprejudice, mansfieldpark, emma, northangerabbey, persuasion);
                writeLines(paste(sapply(b, paste, collapse = "\n"), collapse = "\n\n"), commandArgs(TRUE)[1], useBytes = TRUE)' \
        "$out.tmp"
    mv "$out.tmp" "$out"
fi
echo "$out"
