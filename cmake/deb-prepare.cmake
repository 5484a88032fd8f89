# Run at the end of `cmake --install` (install(SCRIPT)), so also in CPack's
# staging tree: what Debian policy wants beyond the files themselves.
# CITYPIPE_VERSION and CITYPIPE_MAINTAINER are set by the install(CODE) before.
set(root "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}")
# Man pages compressed, gzip -n (no time stamp) so that builds are reproducible.
file(GLOB pages "${root}/share/man/man[1-8]/*.[1-8]")
foreach(page IN LISTS pages)
  execute_process(COMMAND gzip -9nf "${page}")
endforeach()
set(doc "${root}/share/doc/citypipe")
file(MAKE_DIRECTORY "${doc}")
file(WRITE "${doc}/copyright" "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: citypipe

Files: *
Copyright: the citypipe developers
License: none-stated
 The citypipe source tree states no license yet.
")
string(TIMESTAMP now "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE "${doc}/changelog" "citypipe (${CITYPIPE_VERSION}) unstable; urgency=medium

  * Built from the citypipe source tree by make deb.

 -- ${CITYPIPE_MAINTAINER}  ${now}
")
execute_process(COMMAND gzip -9nf "${doc}/changelog")
