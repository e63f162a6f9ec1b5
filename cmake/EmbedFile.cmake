# cmake -DIN=file -DOUT=header.hpp -DNAME=k_symbol -P EmbedFile.cmake
# Writes a header holding the bytes of IN as `inline constexpr unsigned char NAME[]` (no NUL added).
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){32})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by cmake/EmbedFile.cmake. Do not edit.\n#pragma once\n"
     "inline constexpr unsigned char ${NAME}[] = {\n${bytes}\n};\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
