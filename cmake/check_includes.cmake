# No #include points up the layer stack: a file of src/<layer>/ may include only its own layer
# and the layers listed before it in cmake/layers.cmake (model/ thus never includes lora/).
# Checks quoted includes of the form "<layer>/..."; system and third-party includes are not
# layers. Run as the CTest test check_layers, or by hand: scripts/check_layers.sh.
#   cmake -DTUNA_SOURCE_DIR=<repository root> -P cmake/check_includes.cmake
if(NOT TUNA_SOURCE_DIR)
  get_filename_component(TUNA_SOURCE_DIR ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
endif()
include(${CMAKE_CURRENT_LIST_DIR}/layers.cmake)

set(order ${TUNA_LAYERS} ${TUNA_EXE_LAYERS})
set(include_re "^[ \t]*#[ \t]*include[ \t]*\"([a-z_0-9]+)/[^\"]*\"")
set(violations 0)
set(checked 0)
foreach(layer ${order})
  list(FIND order ${layer} rank)
  file(GLOB_RECURSE files ${TUNA_SOURCE_DIR}/src/${layer}/*.h ${TUNA_SOURCE_DIR}/src/${layer}/*.cpp
       ${TUNA_SOURCE_DIR}/src/${layer}/*.cuh ${TUNA_SOURCE_DIR}/src/${layer}/*.cu)
  foreach(file ${files})
    math(EXPR checked "${checked} + 1")
    file(RELATIVE_PATH rel ${TUNA_SOURCE_DIR} ${file})
    file(STRINGS ${file} lines REGEX "${include_re}")
    foreach(line ${lines})
      string(REGEX MATCH "${include_re}" included "${line}")
      set(target ${CMAKE_MATCH_1})
      list(FIND order ${target} target_rank)
      if(target_rank GREATER rank)
        string(STRIP "${line}" line)
        if(layer STREQUAL "model" AND target STREQUAL "lora")
          set(why "model/ must not include lora/ (LoRA builds on the model, not the reverse)")
        else()
          set(why "${target}/ is above ${layer}/ in cmake/layers.cmake")
        endif()
        message(SEND_ERROR "[layers] ${rel}: ${line}: ${why} (hint: move the shared code down "
                           "to the lower layer, or the including code up)")
        math(EXPR violations "${violations} + 1")
      endif()
    endforeach()
  endforeach()
endforeach()

if(checked EQUAL 0)
  message(FATAL_ERROR "[layers] no source files under ${TUNA_SOURCE_DIR}/src "
                      "(hint: pass -DTUNA_SOURCE_DIR=<repository root>)")
endif()
if(violations GREATER 0)
  message(FATAL_ERROR "[layers] ${violations} include(s) point up the layer stack")
endif()
message(STATUS "[layers] ${checked} files of src/ include only their own or lower layers")
