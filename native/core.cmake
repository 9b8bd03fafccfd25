# The core library, included by this project and by the plugin's.
set(ATSI_CORE_DIR ${CMAKE_CURRENT_LIST_DIR}/core)
set(ATSI_CORE_SOURCES
  ${ATSI_CORE_DIR}/names.cc ${ATSI_CORE_DIR}/table_writer.cc ${ATSI_CORE_DIR}/table_view.cc
  ${ATSI_CORE_DIR}/lookup.cc ${ATSI_CORE_DIR}/gateway_lookup.cc ${ATSI_CORE_DIR}/balancer.cc ${ATSI_CORE_DIR}/shm_names.cc
  ${ATSI_CORE_DIR}/publisher.cc ${ATSI_CORE_DIR}/table_source.cc ${ATSI_CORE_DIR}/model_decoder.cc ${ATSI_CORE_DIR}/encoded_writer.cc
  ${ATSI_CORE_DIR}/tls_writer.cc ${ATSI_CORE_DIR}/tls_view.cc ${ATSI_CORE_DIR}/tls_decoder.cc
  ${ATSI_CORE_DIR}/stats_region.cc)
add_library(atsi_core STATIC ${ATSI_CORE_SOURCES})
target_include_directories(atsi_core PUBLIC ${ATSI_CORE_DIR})
set_target_properties(atsi_core PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_link_libraries(atsi_core PUBLIC rt)
if(ATSI_FUZZ)
  add_library(atsi_core_fuzz STATIC ${ATSI_CORE_SOURCES})
  target_include_directories(atsi_core_fuzz PUBLIC ${ATSI_CORE_DIR})
  target_compile_options(atsi_core_fuzz PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
endif()
