#include "tls_registry.h"

#include <map>
#include <memory>
#include <mutex>

#include "common.h"
#include "metrics.h"
#include "poller.h"
#include "table_source.h"

namespace atsi::plugin {
namespace {

struct PolledTls {
  std::unique_ptr<TlsSource> source;
  Snapshot<TlsStore> store;
  // What the poller last looked at, whether taken or refused: kept so that a
  // refused mapping is not parsed again on every poll.
  std::shared_ptr<const MappedTls> last_seen;
  uint64_t refused_mapping_logged = 0;  // the source's refusals already logged
  uint64_t refused_control_logged = 0;  // the same for control objects
  uint64_t refused_parse = 0;
  uint64_t switches = 0;
};

std::mutex registry_mu;
std::map<std::string, PolledTls>& registry() {
  static auto* r = new std::map<std::string, PolledTls>();  // never freed: outlives every thread
  return *r;
}

// Takes `mapped` into service if every certificate in it parses. What the
// serving store already parsed, byte for byte, is taken from it, not parsed
// again (TlsStore::build): a renewal parses the renewed certificate only.
void take(PolledTls& p, const std::shared_ptr<const MappedTls>& mapped) {
  std::shared_ptr<const TlsStore> serving = p.store.load();
  std::shared_ptr<const TlsStore> store;
  TlsBuildStats n;
  if (Error e = TlsStore::build(mapped->view(), mapped, serving.get(), store, &n)) {
    ++p.refused_parse;
    ATSI_ERROR("refused TLS table %s generation %llu: %s; still serving generation %llu", p.source->name().c_str(),
               static_cast<unsigned long long>(mapped->generation()), e.message.c_str(),
               static_cast<unsigned long long>(serving ? serving->generation() : 0));
    return;
  }
  ++p.switches;
  ATSI_DEBUG("TLS table %s generation %llu: %zu certificates (%u parsed, %u as before), client CAs %u parsed, %u as before",
             p.source->name().c_str(), static_cast<unsigned long long>(store->generation()), store->certificate_count(),
             n.certificates_parsed, n.certificates_reused, n.cas_parsed, n.cas_reused);
  p.store.publish(std::move(store));
  // `serving` goes here; the old store itself when the last handshake thread
  // holding it moves on, and with it what only it held.
}

void poll_once(PolledTls& p) {
  TlsSource& s = *p.source;
  s.refresh(/*wait=*/true);
  SourceStats st = s.stats();
  if (st.refused != p.refused_mapping_logged) {
    p.refused_mapping_logged = st.refused;
    std::shared_ptr<const TlsStore> serving = p.store.load();
    ATSI_ERROR("refused TLS table: %s; still serving generation %llu", s.last_error().c_str(),
               static_cast<unsigned long long>(serving ? serving->generation() : 0));
  }
  if (st.control_refused != p.refused_control_logged) {
    p.refused_control_logged = st.control_refused;
    std::shared_ptr<const TlsStore> serving = p.store.load();
    ATSI_ERROR("refused TLS control object: %s; still serving generation %llu", s.last_control_error().c_str(),
               static_cast<unsigned long long>(serving ? serving->generation() : 0));
  }
  std::shared_ptr<const MappedTls> mapped = s.current();
  if (mapped && mapped != p.last_seen) {
    p.last_seen = mapped;
    take(p, mapped);
  }
  const Metrics& m = metrics();
  std::shared_ptr<const TlsStore> serving = p.store.load();
  TSStatIntSet(m.tls_generation, TSMgmtInt(serving ? serving->generation() : 0));
  TSStatIntSet(m.tls_switches, TSMgmtInt(p.switches));
  TSStatIntSet(m.tls_refused, TSMgmtInt(st.refused + p.refused_parse));
  // A table OpenSSL refused counts as invalid, so that the reasons add up.
  RefusalCounts tables = st.refused_by;
  tables[size_t(Refusal::kInvalid)] += p.refused_parse;
  set_refusal_metrics(m.tls_refusals, tables, st.control_refused_by);
}

}  // namespace

const Snapshot<TlsStore>& shared_tls_store(const std::string& name, uint32_t poll_ms) {
  std::lock_guard<std::mutex> lk(registry_mu);
  PolledTls& p = registry()[name];
  if (!p.source) {
    p.source = std::make_unique<TlsSource>(name);
    poll_once(p);  // a TLS table published before ATS started serves at once
    // Only this thread polls (and so parses) from now on: the map's nodes
    // never move, and the registry is never freed.
    start_poller("[ATSI_TLS_POLL]", poll_ms, [&p] { poll_once(p); });
  }
  return p.store;
}

}  // namespace atsi::plugin
