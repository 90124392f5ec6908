# Unity builds. Most of a file's compile time here is instantiating and generating the
# same nlohmann/json, CLI11 and Boost templates once per file (a tools/ command: 4.7 s
# parsing, 10 s in all at -O0; precompiled headers saved nothing measurable); compiling
# a target's files in batches of 8 generates them once per batch (tools/: 200 -> 50 CPU
# seconds). Used by the targets whose files do not collide in one translation unit;
# -DFEDSWARM_UNITY=OFF builds file by file (e.g. to check that each includes what it uses).
option(FEDSWARM_UNITY "Compile the larger targets in unity batches" ON)

# fedswarm_unity(<target> [SKIP <file>...]): <target> in batches of 8; each SKIP file
# (one whose file-local names collide with a batch neighbour's) compiles on its own.
function(fedswarm_unity target)
  cmake_parse_arguments(U "" "" "SKIP" ${ARGN})
  if(NOT FEDSWARM_UNITY)
    return()
  endif()
  set_target_properties(${target} PROPERTIES UNITY_BUILD ON UNITY_BUILD_BATCH_SIZE 8)
  if(U_SKIP)
    set_source_files_properties(${U_SKIP} TARGET_DIRECTORY ${target}
                                PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON)
  endif()
endfunction()
