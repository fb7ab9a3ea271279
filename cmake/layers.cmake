# The layer list of DESIGN.md §2, lowest first: one list for src/CMakeLists.txt (library sources),
# tests/CMakeLists.txt (one test binary per layer) and cmake/check_includes.cmake (no #include
# points up the list). Peers in DESIGN.md (tokenizer, model; data, lora; infer, train, eval,
# export) are ordered here so that a later one may include an earlier one, never the reverse:
# train/ saves a fully fine-tuned model through export/ and will evaluate through eval/, so those
# two come before it.
# cli/ is the executable, not part of libtuna; it comes last. A listed layer without a src/
# folder yet is skipped.
set(TUNA_LAYERS core ops io template tokenizer model data lora infer export eval train app)
set(TUNA_EXE_LAYERS cli)

# Folders of tests/ that are not layers.
set(TUNA_TEST_NON_LAYER_DIRS golden assets)

# tuna_check_layer_folders(SRC_DIR TESTS_DIR): every folder of src/ is a listed layer, every
# existing layer has tests/<layer> with at least one test_*.cpp, and every folder of tests/ is a
# layer (a test in an unlisted folder would silently not build).
function(tuna_check_layer_folders src_dir tests_dir)
  set(all ${TUNA_LAYERS} ${TUNA_EXE_LAYERS})
  file(GLOB entries RELATIVE ${src_dir} ${src_dir}/*)
  foreach(entry ${entries})
    if(NOT IS_DIRECTORY ${src_dir}/${entry})
      continue()
    endif()
    if(NOT entry IN_LIST all)
      message(FATAL_ERROR "[layers] src/${entry}/ is not a layer of TUNA_LAYERS "
                          "(hint: add it in its place in cmake/layers.cmake, lowest first)")
    endif()
    file(GLOB_RECURSE tests CONFIGURE_DEPENDS ${tests_dir}/${entry}/test_*.cpp)
    if(NOT tests)
      message(FATAL_ERROR "[layers] src/${entry}/ has no tests: tests/${entry}/ holds no "
                          "test_*.cpp (hint: tests mirror src/, DESIGN.md §7 rule 8)")
    endif()
  endforeach()
  file(GLOB entries RELATIVE ${tests_dir} ${tests_dir}/*)
  foreach(entry ${entries})
    if(IS_DIRECTORY ${tests_dir}/${entry} AND NOT entry IN_LIST all
       AND NOT entry IN_LIST TUNA_TEST_NON_LAYER_DIRS)
      message(FATAL_ERROR "[layers] tests/${entry}/ is not a layer of TUNA_LAYERS, so its tests "
                          "would not build (hint: name it after its src/ folder)")
    endif()
  endforeach()
endfunction()
