# Build-time shader pipeline: GLSL --glslangValidator--> SPIR-V --spirv-opt--> --spirv-val-->
# embedded uint32_t array. Variants come from a declarative table (shaders/variants.txt):
#   <variant name>  <source .comp>  [DEFINE[=value] ...]
# glslangValidator writes a depfile, so editing an included .glsl rebuilds exactly the
# variants whose sources include it.

find_program(GLSLANG_VALIDATOR glslangValidator)
if(NOT GLSLANG_VALIDATOR)
  message(FATAL_ERROR "glslangValidator not found: install the Debian package 'glslang-tools'")
endif()
find_program(SPIRV_VAL spirv-val)
find_program(SPIRV_OPT spirv-opt)
if(NOT SPIRV_VAL OR NOT SPIRV_OPT)
  message(FATAL_ERROR "spirv-val/spirv-opt not found: install the Debian package 'spirv-tools'")
endif()
option(VKS_SPIRV_OPTIMIZE "Run spirv-opt -O on every shader" ON)

# Reads the variant table into parallel lists VKS_SHADER_NAMES / VKS_SHADER_SOURCES /
# VKS_SHADER_DEFINES (defines joined with '|').
function(vks_read_variant_table table)
  # Re-run the configure step when the table changes (rows become build rules at configure time).
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${table}")
  file(STRINGS "${table}" lines)
  set(names)
  set(sources)
  set(defines)
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "#.*$" "" line "${line}")
    string(STRIP "${line}" line)
    if(line STREQUAL "")
      continue()
    endif()
    string(REGEX REPLACE "[ \t]+" ";" fields "${line}")
    list(LENGTH fields n)
    if(n LESS 2)
      message(FATAL_ERROR "${table}: bad line '${line}' (want: name source [DEFINES...])")
    endif()
    list(GET fields 0 name)
    list(GET fields 1 src)
    if(name IN_LIST names)
      message(FATAL_ERROR "${table}: variant '${name}' is listed twice")
    endif()
    set(defs)
    if(n GREATER 2)
      list(SUBLIST fields 2 -1 defs)
    endif()
    string(REPLACE ";" "|" defs "${defs}")
    if(defs STREQUAL "")
      set(defs "-")
    endif()
    list(APPEND names "${name}")
    list(APPEND sources "${src}")
    list(APPEND defines "${defs}")
  endforeach()
  set(VKS_SHADER_NAMES "${names}" PARENT_SCOPE)
  set(VKS_SHADER_SOURCES "${sources}" PARENT_SCOPE)
  set(VKS_SHADER_DEFINES "${defines}" PARENT_SCOPE)
endfunction()

# Compiles every variant of `table` and produces one object library `target` holding the
# embedded words and a registry (vks::shaders::find(name)).
function(vks_add_shader_library target table)
  vks_read_variant_table("${table}")
  get_filename_component(src_dir "${table}" DIRECTORY)
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/spirv")
  file(MAKE_DIRECTORY "${out_dir}")
  set(generated)
  set(decls "")
  set(entries "")
  list(LENGTH VKS_SHADER_NAMES count)
  math(EXPR last "${count} - 1")
  foreach(i RANGE ${last})
    list(GET VKS_SHADER_NAMES ${i} name)
    list(GET VKS_SHADER_SOURCES ${i} src)
    list(GET VKS_SHADER_DEFINES ${i} defs)
    set(def_args)
    if(NOT defs STREQUAL "-")
      string(REPLACE "|" ";" defs "${defs}")
      foreach(d IN LISTS defs)
        list(APPEND def_args "-D${d}")
      endforeach()
    endif()
    set(raw "${out_dir}/${name}.raw.spv")
    set(spv "${out_dir}/${name}.spv")
    set(cpp "${out_dir}/${name}.spv.cpp")
    if(VKS_SPIRV_OPTIMIZE)
      set(opt_cmd COMMAND ${SPIRV_OPT} -O --target-env=vulkan1.2 "${raw}" -o "${spv}")
    else()
      set(opt_cmd COMMAND ${CMAKE_COMMAND} -E copy "${raw}" "${spv}")
    endif()
    add_custom_command(
      OUTPUT "${raw}" "${spv}" "${cpp}"
      COMMAND ${GLSLANG_VALIDATOR} -V --target-env vulkan1.2 -S comp -I${src_dir} ${def_args}
              --depfile "${out_dir}/${name}.d" -o "${raw}" "${src_dir}/${src}"
      ${opt_cmd}
      COMMAND ${SPIRV_VAL} --target-env vulkan1.2 "${spv}"
      COMMAND vks_embed_spirv "${spv}" "${cpp}" "spv_${name}"
      DEPENDS "${src_dir}/${src}" vks_embed_spirv "${table}"
      DEPFILE "${out_dir}/${name}.d"
      COMMENT "SPIR-V ${name} (${src})"
      VERBATIM)
    list(APPEND generated "${cpp}")
    string(APPEND decls "extern const uint32_t spv_${name}[];\nextern const size_t spv_${name}_words;\n")
    string(APPEND entries "    {\"${name}\", spv_${name}, spv_${name}_words},\n")
  endforeach()
  set(VKS_SHADER_DECLS "${decls}")
  set(VKS_SHADER_ENTRIES "${entries}")
  configure_file("${src_dir}/registry.cpp.in" "${out_dir}/registry.cpp" @ONLY)
  add_library(${target} OBJECT ${generated} "${out_dir}/registry.cpp")
  target_include_directories(${target} PUBLIC "${PROJECT_SOURCE_DIR}/lib")
endfunction()
