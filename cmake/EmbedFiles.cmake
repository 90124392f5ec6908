# fedswarm_embed_files(TARGET OUT_CPP NAMESPACE FILES...)
# Generates a .cpp that defines, for each file, a std::string_view with its bytes and
# a lookup `std::string_view <ns>::embedded(std::string_view name)` by file name.
function(fedswarm_embed_files out_cpp ns)
  set(files ${ARGN})
  set(script "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/embed_files.cmake")
  add_custom_command(
    OUTPUT "${out_cpp}"
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_cpp} -DNS=${ns} "-DFILES=${files}" -P "${script}"
    DEPENDS ${files} "${script}"
    COMMENT "Embedding ${ns} data files"
    VERBATIM)
endfunction()
