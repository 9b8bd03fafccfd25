{
  "targets": [
    {
      "target_name": "ats_ingress",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/stats.cc",
        "native/core/names.cc",
        "native/core/table_writer.cc",
        "native/core/table_view.cc",
        "native/core/lookup.cc",
        "native/core/gateway_lookup.cc",
        "native/core/balancer.cc",
        "native/core/shm_names.cc",
        "native/core/publisher.cc",
        "native/core/table_source.cc",
        "native/core/model_decoder.cc",
        "native/core/encoded_writer.cc",
        "native/core/tls_writer.cc",
        "native/core/tls_view.cc",
        "native/core/tls_decoder.cc",
        "native/core/stats_region.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/core"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc!": ["-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-O2", "-Wno-restrict", "-Wno-missing-field-initializers"],
      "libraries": ["-lrt"]
    }
  ]
}
