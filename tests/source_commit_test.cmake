# The source commit of `fedswarm --version` falls back to "unknown" (and the build goes
# on) without git or outside a checkout, and a given commit wins.
# Run as: cmake -DSCRIPT=<cmake/source_commit.cmake> -DGIT=<git or empty> -DWORK=<dir> -P source_commit_test.cmake
file(REMOVE_RECURSE "${WORK}")
# WORK is inside the build tree, maybe inside a checkout: git must not find that one.
set(ENV{GIT_CEILING_DIRECTORIES} "${WORK}")
file(MAKE_DIRECTORY "${WORK}/not-a-checkout")

function(expect what args)
  file(REMOVE "${WORK}/out.cpp")
  execute_process(COMMAND "${CMAKE_COMMAND}" ${args} "-DOUT=${WORK}/out.cpp" -P "${SCRIPT}" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "source_commit.cmake failed (${rc}) with ${args}")
  endif()
  file(READ "${WORK}/out.cpp" text)
  if(NOT text MATCHES "return \"${what}\";")
    message(FATAL_ERROR "expected commit '${what}' with ${args}, got:\n${text}")
  endif()
endfunction()

expect("unknown" "-DSRC=${WORK}/not-a-checkout;-DGIT=${GIT}")
expect("unknown" "-DSRC=${WORK}/not-a-checkout;-DGIT=")
expect("unknown" "-DSRC=${WORK}/not-a-checkout;-DGIT=/nonexistent/git")
expect("v1\\.2\\.3-tarball" "-DSRC=${WORK}/not-a-checkout;-DGIT=${GIT};-DCOMMIT=v1.2.3-tarball")
message(STATUS "source commit fallback ok")
