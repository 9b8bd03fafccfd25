#include "stats_region.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "posix_fd.h"
#include "shm_names.h"

namespace atsi {
namespace {

uint64_t wall_ms() {
  return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count());
}

// Random, never 0. getrandom() rarely fails (a kernel without it); then the
// clock and the PID, mixed, still differ from one ATS start to the next.
uint64_t new_instance() {
  uint64_t x = 0;
  if (::getrandom(&x, sizeof x, GRND_NONBLOCK) != ssize_t(sizeof x)) {
    x = uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()) ^ (uint64_t(::getpid()) << 32) ^
        wall_ms();
    // splitmix64's finaliser
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    x ^= x >> 31;
  }
  return x ? x : 1;
}

Error invalid(const std::string& why) { return {ErrorCode::kInvalidStats, why}; }

}  // namespace

// ------------------------------------------------------------------ writer

Error StatsWriter::create(std::string_view table, const StatsOptions& options, std::unique_ptr<StatsWriter>& out) {
  if (Error e = check_table_name(table)) return e;
  if (options.max_slots < 1 || options.max_slots > kStatsSlotLimit)
    return {ErrorCode::kInvalidArg, "stats slots must be 1 to " + std::to_string(kStatsSlotLimit) + ", not " +
                                        std::to_string(options.max_slots)};
  if (options.max_threads < 1 || options.max_threads > kStatsThreadLimit)
    return {ErrorCode::kInvalidArg, "stats threads must be 1 to " + std::to_string(kStatsThreadLimit) + ", not " +
                                        std::to_string(options.max_threads)};
  if ((options.mode & ~0777u) != 0) return {ErrorCode::kInvalidArg, "stats mode must be a permission mode"};

  std::unique_ptr<StatsWriter> w(new StatsWriter());
  w->name_ = stats_object_name(table);
  const uint64_t block_size = stats_block_size(options.max_slots);
  w->size_ = size_t(stats_total_size(options.max_slots, options.max_threads));

  // Unlink, then create exclusively: a reader never finds a header being
  // rewritten in place, only no object, a zeroed one, or a whole one. Two
  // writers racing (two ATS on one table name: a mistake) each end up with an
  // object of their own; the second to create wins the name.
  int raw_fd = -1;
  for (int attempt = 0; attempt < 4 && raw_fd < 0; ++attempt) {
    if (::shm_unlink(w->name_.c_str()) != 0 && errno != ENOENT) return sys_error("shm_unlink " + w->name_);
    raw_fd = ::shm_open(w->name_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(options.mode));
    if (raw_fd < 0 && errno != EEXIST) return sys_error("shm_open " + w->name_);
  }
  if (raw_fd < 0) return sys_error("shm_open " + w->name_);
  Fd fd(raw_fd);
  auto fail = [&](const std::string& what) {
    Error e = sys_error(what + " " + w->name_);
    ::shm_unlink(w->name_.c_str());
    return e;
  };
  if (::fchmod(fd.get(), mode_t(options.mode)) != 0) return fail("fchmod");
  // Sparse: tmpfs gives memory to the pages written, not to this size.
  if (::ftruncate(fd.get(), off_t(w->size_)) != 0) return fail("ftruncate");
  struct statvfs vfs {};
  if (::fstatvfs(fd.get(), &vfs) == 0) w->fs_free_ = uint64_t(vfs.f_bavail) * uint64_t(vfs.f_frsize);
  void* addr = ::mmap(nullptr, w->size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (addr == MAP_FAILED) return fail("mmap");
  auto* base = static_cast<uint8_t*>(addr);
  auto* h = reinterpret_cast<StatsHeader*>(base);
  h->format_version = kStatsFormatVersion;
  h->header_size = kStatsHeaderSize;
  h->max_threads = options.max_threads;
  h->max_slots = options.max_slots;
  h->counters_per_slot = kStatsCounterCount;
  h->block_header_size = kStatsBlockHeaderSize;
  h->block_size = block_size;
  h->total_size = w->size_;
  h->instance = new_instance();
  h->created_ms = wall_ms();
  h->writer_pid = uint64_t(::getpid());
  h->next_thread.store(0, std::memory_order_relaxed);
  h->dropped.store(0, std::memory_order_relaxed);
  // Last: a reader that loads the magic with acquire sees all of the above.
  h->magic.store(kStatsMagic, std::memory_order_release);
  w->header_ = h;

  // Every Thread now, so that attach() allocates nothing.
  w->threads_.resize(size_t(options.max_threads) + 1);
  for (uint32_t i = 0; i <= options.max_threads; ++i) {
    uint8_t* block = base + kStatsHeaderSize + uint64_t(i) * block_size;
    Thread& t = w->threads_[i];
    t.block_ = reinterpret_cast<StatsBlockHeader*>(block);
    t.counters_ = reinterpret_cast<std::atomic<uint64_t>*>(block + kStatsBlockHeaderSize);
    t.dropped_ = &h->dropped;
    t.max_slots_ = options.max_slots;
    t.shared_ = i == options.max_threads;
  }
  if (int rc = ::pthread_key_create(&w->key_, nullptr); rc != 0) {
    errno = rc;
    return sys_error("pthread_key_create for " + w->name_);
  }
  w->key_made_ = true;
  out = std::move(w);
  return {};
}

StatsWriter::~StatsWriter() {
  if (key_made_) ::pthread_key_delete(key_);
  if (header_) ::munmap(header_, size_);
}

StatsWriter::Thread& StatsWriter::attach() noexcept {
  uint32_t owned = header_->max_threads;
  uint32_t i = header_->next_thread.fetch_add(1, std::memory_order_relaxed);
  Thread& t = threads_[i < owned ? i : owned];
  // On failure (no memory for the key's second level: unlikely) the thread
  // claims another block on its next call; the overflow block takes the rest.
  ::pthread_setspecific(key_, &t);
  return t;
}

// ------------------------------------------------------------------ reader

Error validate_stats(const uint8_t* base, size_t size, StatsLayout& out) {
  if (size == 0) return {ErrorCode::kStatsNotFound, "is being created (empty)"};
  if (size < kStatsHeaderSize)
    return invalid("size " + std::to_string(size) + " is smaller than a header (" + std::to_string(kStatsHeaderSize) + ")");
  const auto* h = reinterpret_cast<const StatsHeader*>(base);
  uint64_t magic = h->magic.load(std::memory_order_acquire);
  if (magic == 0) return {ErrorCode::kStatsNotFound, "is being created (no magic yet)"};
  if (magic != kStatsMagic) return invalid("wrong magic: not a counters object");
  if (h->format_version != kStatsFormatVersion)
    return invalid("format version " + std::to_string(h->format_version) + ", this reader knows " +
                   std::to_string(kStatsFormatVersion));
  StatsLayout l;
  l.header_size = h->header_size;
  l.max_threads = h->max_threads;
  l.max_slots = h->max_slots;
  l.block_header_size = h->block_header_size;
  l.block_size = h->block_size;
  l.total_size = h->total_size;
  l.instance = h->instance;
  l.created_ms = h->created_ms;
  l.writer_pid = h->writer_pid;
  uint32_t counters_per_slot = h->counters_per_slot;
  if (counters_per_slot != kStatsCounterCount)
    return invalid(std::to_string(counters_per_slot) + " counters per slot, this reader knows " +
                   std::to_string(kStatsCounterCount));
  if (l.header_size < sizeof(StatsHeader) || l.header_size % kStatsPageSize != 0 || l.header_size > size)
    return invalid("header size " + std::to_string(l.header_size));
  if (l.max_slots < 1 || l.max_slots > kStatsSlotLimit) return invalid("max slots " + std::to_string(l.max_slots));
  if (l.max_threads < 1 || l.max_threads > kStatsThreadLimit)
    return invalid("max threads " + std::to_string(l.max_threads));
  if (l.block_header_size < sizeof(StatsBlockHeader) || l.block_header_size % 8 != 0 ||
      l.block_header_size > kStatsPageSize)
    return invalid("block header size " + std::to_string(l.block_header_size));
  // Every product below is of values bounded above, but block_size and
  // total_size are the header's word: check them with overflow in mind.
  uint64_t counters_bytes = uint64_t(l.max_slots) * kStatsCounterCount * sizeof(uint64_t);
  uint64_t blocks_bytes = 0, total = 0;
  if (l.block_size < l.block_header_size + counters_bytes || l.block_size % kStatsPageSize != 0 ||
      __builtin_mul_overflow(l.block_size, uint64_t(l.max_threads) + 1, &blocks_bytes) ||
      __builtin_add_overflow(blocks_bytes, uint64_t(l.header_size), &total))
    return invalid("block size " + std::to_string(l.block_size) + " for " + std::to_string(l.max_slots) +
                   " slots and " + std::to_string(l.max_threads) + " threads");
  if (total != l.total_size)
    return invalid("total size " + std::to_string(l.total_size) + " is not the blocks' " + std::to_string(total));
  if (l.total_size > size || l.total_size > kStatsMaxBytes)
    return invalid(std::to_string(l.max_threads + 1) + " blocks need " + std::to_string(l.total_size) +
                   " bytes, the object has " + std::to_string(size));
  if (l.instance == 0) return invalid("instance 0");
  out = l;
  return {};
}

Error sum_stats(const uint8_t* base, const StatsLayout& l, std::vector<uint64_t>& counters, StatsSnapshot& out) {
  const auto* h = reinterpret_cast<const StatsHeader*>(base);
  // Only claimed blocks: reading a block no thread wrote would give it
  // memory (a read of a tmpfs hole through a mapping allocates the page).
  uint32_t claimed = h->next_thread.load(std::memory_order_acquire);
  bool overflow = claimed > l.max_threads;
  uint32_t owned = overflow ? l.max_threads : claimed;
  uint32_t blocks = owned + (overflow ? 1 : 0);
  // High-water marks first (with acquire: the counts below each are then
  // visible), so that one pass sizes the result.
  uint32_t slots = 0;
  auto block_at = [&](uint32_t b) {
    uint32_t index = b < owned ? b : l.max_threads;
    return base + l.header_size + uint64_t(index) * l.block_size;
  };
  // At most kStatsThreadLimit + 1 blocks: the marks fit on the stack.
  uint32_t marks[kStatsThreadLimit + 1];
  for (uint32_t b = 0; b < blocks; ++b) {
    const auto* bh = reinterpret_cast<const StatsBlockHeader*>(block_at(b));
    uint32_t hw = bh->high_water.load(std::memory_order_acquire);
    if (hw > l.max_slots)
      return invalid("block " + std::to_string(b) + " has a high-water mark of " + std::to_string(hw) + " past its " +
                     std::to_string(l.max_slots) + " slots");
    marks[b] = hw;
    if (hw > slots) slots = hw;
  }
  counters.assign(size_t(slots) * kStatsCounterCount, 0);
  for (uint32_t b = 0; b < blocks; ++b) {
    const auto* c = reinterpret_cast<const std::atomic<uint64_t>*>(block_at(b) + l.block_header_size);
    size_t n = size_t(marks[b]) * kStatsCounterCount;
    for (size_t i = 0; i < n; ++i) counters[i] += c[i].load(std::memory_order_relaxed);
  }
  out.instance = l.instance;
  out.created_ms = l.created_ms;
  out.writer_pid = l.writer_pid;
  out.dropped = h->dropped.load(std::memory_order_relaxed);
  out.slots = slots;
  out.max_slots = l.max_slots;
  out.max_threads = l.max_threads;
  out.blocks = blocks;
  out.overflow = overflow;
  return {};
}

StatsReader::StatsReader(std::string table) : table_(std::move(table)), name_(stats_object_name(table_)) {}

StatsReader::~StatsReader() { unmap(); }

void StatsReader::unmap() {
  if (base_) ::munmap(const_cast<uint8_t*>(base_), size_);
  base_ = nullptr;
  size_ = 0;
  dev_ = ino_ = 0;
}

Error StatsReader::read(std::vector<uint64_t>& counters, StatsSnapshot& out) {
  if (Error e = check_table_name(table_)) return e;
  Fd fd(::shm_open(name_.c_str(), O_RDONLY | O_CLOEXEC, 0));
  if (fd.get() < 0) {
    if (errno == ENOENT) {
      unmap();  // an object removed: let its memory go
      return {ErrorCode::kStatsNotFound, name_ + " does not exist: the plugin has not created its counters"};
    }
    return sys_error("shm_open " + name_);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("fstat " + name_);
  size_t size = size_t(st.st_size);
  // The same object as last time (inode and instance), no smaller: the
  // layout validated then still holds (the writer never changes it; an
  // object shrunk or rewritten in place is mapped and validated anew rather
  // than read past its end).
  bool same = base_ && dev_ == uint64_t(st.st_dev) && ino_ == uint64_t(st.st_ino) && size >= size_ &&
              reinterpret_cast<const StatsHeader*>(base_)->instance == layout_.instance;
  if (!same) {
    unmap();
    if (st.st_size < 0 || uint64_t(st.st_size) > kStatsMaxBytes)
      return invalid(name_ + ": size " + std::to_string(st.st_size) + " cannot be a counters object");
    if (size == 0) return {ErrorCode::kStatsNotFound, name_ + " is being created (empty)"};
    void* addr = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd.get(), 0);
    if (addr == MAP_FAILED) return sys_error("mmap " + name_);
    StatsLayout l;
    if (Error e = validate_stats(static_cast<const uint8_t*>(addr), size, l)) {
      ::munmap(addr, size);
      return {e.code, name_ + ": " + e.message};
    }
    base_ = static_cast<const uint8_t*>(addr);
    size_ = size;
    dev_ = uint64_t(st.st_dev);
    ino_ = uint64_t(st.st_ino);
    layout_ = l;
  }
  if (Error e = sum_stats(base_, layout_, counters, out)) return {e.code, name_ + ": " + e.message};
  return {};
}

Error remove_stats(std::string_view table) {
  if (Error e = check_table_name(table)) return e;
  std::string name = stats_object_name(table);
  if (::shm_unlink(name.c_str()) != 0 && errno != ENOENT) return sys_error("shm_unlink " + name);
  return {};
}

}  // namespace atsi
