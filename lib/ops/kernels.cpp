#include "ops/kernels.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <thread>

#include "common/error.hpp"
#include "ops/attention.hpp"
#include "ops/matmul.hpp"

namespace vks::ops {

Grid grid_for(uint64_t n_groups, const vk::Capabilities& caps) {
    Grid g;
    const uint64_t max_x = caps.max_workgroup_count[0], max_y = caps.max_workgroup_count[1];
    if (n_groups <= max_x) {
        g.x = uint32_t(std::max<uint64_t>(n_groups, 1));
        return g;
    }
    g.x = uint32_t(max_x);
    uint64_t y = (n_groups + max_x - 1) / max_x;
    if (y > max_y) fail(Status::unsupported, "%llu workgroups exceed the device's %llu x %llu grid",
                        (unsigned long long)n_groups, (unsigned long long)max_x, (unsigned long long)max_y);
    g.y = uint32_t(y);
    return g;
}

namespace {
thread_local const Kernels* t_collecting = nullptr;  // Kernels::Collect scope of this thread
}

Kernels::Collect::Collect(Kernels& k) : prev_(t_collecting) { t_collecting = &k; }
Kernels::Collect::~Collect() { t_collecting = prev_; }
Kernels::Suspend::Suspend() : prev_(t_collecting) { t_collecting = nullptr; }
Kernels::Suspend::~Suspend() { t_collecting = prev_; }

const vk::Pipeline& Kernels::pipeline(const std::string& variant, const std::vector<uint32_t>& spec) {
    // Sessions of one model record on their own threads: the map is shared, so lock it. Entries
    // are never erased or moved (unique_ptr), so the returned reference needs no lock.
    Entry* e = nullptr;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        auto key = std::make_pair(variant, spec);
        auto it = cache_.find(key);
        if (it == cache_.end()) {
            auto fresh = std::make_unique<Entry>();
            fresh->pipe = vk::Pipeline(device_, variant, spec, false);
            it = cache_.emplace(key, std::move(fresh)).first;
        }
        e = it->second.get();
    }
    if (t_collecting != this) std::call_once(e->built, [e] { e->pipe.build(); });
    return e->pipe;
}

bool Kernels::has_pipeline(const std::string& variant) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [key, entry] : cache_)
        if (key.first == variant && entry->pipe.built()) return true;
    return false;
}

size_t Kernels::n_pipelines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cache_.size();
}

size_t Kernels::build_pending(const std::vector<vk::Commands::Planned>& plan, unsigned n_threads) {
    // Work items: the unbuilt pipelines, each with the planned push constants it is used with.
    std::map<const vk::Pipeline*, std::vector<const vk::Commands::Planned*>> uses;
    for (const auto& q : plan) uses[q.pipeline].push_back(&q);
    std::vector<std::pair<Entry*, std::vector<const vk::Commands::Planned*>>> todo;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& [key, e] : cache_)
            if (!e->pipe.built()) todo.emplace_back(e.get(), uses[&e->pipe]);
    }
    if (todo.empty()) return 0;
    // Most planned variants first: they take longest, and the queue below balances the rest.
    std::stable_sort(todo.begin(), todo.end(), [](const auto& a, const auto& b) { return a.second.size() > b.second.size(); });
    const char* env = std::getenv("VKS_PRECOMPILE");
    const bool parallel = !(env && std::string(env) == "0");
    if (n_threads == 0) n_threads = std::max(1u, std::thread::hardware_concurrency());
    if (const char* t = std::getenv("VKS_PRECOMPILE_THREADS")) n_threads = unsigned(std::max(1l, std::strtol(t, nullptr, 10)));
    n_threads = parallel ? unsigned(std::min<size_t>(n_threads, todo.size())) : 1;
    // CPU devices (lavapipe) compile at the first dispatch, not at creation (measured: the LLVM
    // work of a cold start runs in the driver's queue thread, docs/BENCHMARKS.md "First token").
    const bool at_first_use = parallel && caps().type == VK_PHYSICAL_DEVICE_TYPE_CPU;
    std::atomic<size_t> next{0}, n_built{0};
    auto work = [&](unsigned t) {
        try {
            // Thread 0 warms this device; the others each their own logical device (one queue
            // thread each on lavapipe, so their compilations run side by side).
            std::unique_ptr<vk::Device> helper;
            if (at_first_use && t > 0) {
                vk::DeviceOptions o;
                o.physical_index = device_.physical_index();
                o.pipeline_cache_dir = "off";
                helper = std::make_unique<vk::Device>(device_.instance(), o);
                helper->inject_device_loss_after(0);  // the test hook is for the model's device
            }
            vk::Device& dev = helper ? *helper : device_;
            // Helper devices bind stand-ins of the planned buffers' sizes (never touched: no
            // workgroup runs, so only address space is taken); this device binds the real ones.
            std::map<uint64_t, vk::Buffer> stand_ins;
            auto binding = [&](const vk::Commands::PlannedBinding& pb) {
                if (!helper) return vk::BufferRange(*pb.buffer, pb.offset, pb.range);
                auto it = stand_ins.find(pb.buffer_size);
                if (it == stand_ins.end())
                    it = stand_ins.emplace(pb.buffer_size, vk::Buffer(dev, pb.buffer_size, vk::BufferKind::device, "warm-up")).first;
                return vk::BufferRange(it->second, pb.offset, pb.range);
            };
            for (size_t i; (i = next++) < todo.size();) {
                Entry* e = todo[i].first;
                try {
                    std::call_once(e->built, [e] { e->pipe.build(); });
                    ++n_built;
                    if (!at_first_use) continue;
                    vk::Pipeline copy;
                    if (helper) copy = vk::Pipeline(*helper, e->pipe.name(), e->pipe.spec());
                    const vk::Pipeline& p = helper ? copy : e->pipe;
                    vk::Commands cmd(dev);
                    cmd.begin();
                    for (const vk::Commands::Planned* q : todo[i].second) {
                        std::vector<vk::BufferRange> b;
                        for (const auto& pb : q->bindings) b.push_back(binding(pb));
                        cmd.dispatch_empty(p, b, q->push);
                    }
                    cmd.end();
                    cmd.submit(false);
                } catch (const std::exception&) {
                    // Best effort (see the header): the first real use reports any error.
                }
            }
        } catch (const std::exception&) {
            // No extra device: the remaining pipelines are built by the other threads or at first use.
        }
    };
    std::vector<std::thread> threads;
    for (unsigned t = 1; t < n_threads; ++t) threads.emplace_back(work, t);
    work(0);
    for (auto& th : threads) th.join();
    return n_built.load();
}

uint32_t workgroup_size(const vk::Capabilities& caps, uint32_t want) {
    const uint32_t limit = std::min(caps.max_workgroup_invocations, caps.max_workgroup_size[0]);
    uint32_t wg = want;
    while (wg > limit) wg /= 2;
    return std::max<uint32_t>(wg, 1);
}

bool Kernels::use_subgroups() const { return allow_subgroups_ && caps().subgroup_reduce(); }

std::vector<VariantChoice> describe_variants(const vk::Capabilities& caps) {
    std::vector<VariantChoice> out;
    const bool sg = caps.subgroup_reduce();
    const char* why = sg ? "subgroup arithmetic in compute stages" : "no subgroup arithmetic: shared-memory tree";
    out.push_back({"rms_norm", sg ? "rms_norm_f32_sg" : "rms_norm_f32", why});
    out.push_back({"softmax", sg ? "softmax_f32_sg" : "softmax_f32", why});
    out.push_back({"add/mul", "add_f32/mul_f32", "portable"});
    out.push_back({"glu", "silu_glu_f32/gelu_glu_f32", "portable"});
    for (auto& v : describe_attention_variants(caps)) out.push_back(std::move(v));
    for (auto& v : describe_matmul_variants(caps)) out.push_back(std::move(v));
    return out;
}

}  // namespace vks::ops
