#include "poller.h"

#include <pthread.h>
#include <ts/ts.h>

#include <chrono>
#include <string>
#include <thread>

#include "common.h"

namespace atsi::plugin {
namespace {

struct Poller {
  std::string name;
  uint32_t period_ms;
  std::function<void()> poll;
};

void* run(void* arg) {
  auto* p = static_cast<Poller*>(arg);  // never freed: the thread lives as long as the process
  pthread_setname_np(pthread_self(), p->name.c_str());
  for (;;) {
    p->poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(p->period_ms));
  }
  return nullptr;
}

}  // namespace

void start_poller(const char* name, uint32_t period_ms, std::function<void()> poll) {
  auto* p = new Poller{std::string(name).substr(0, 15), period_ms, std::move(poll)};
  if (!TSThreadCreate(run, p)) ATSI_ERROR("cannot start the %s thread: tables are picked up by requests only", name);
}

}  // namespace atsi::plugin
