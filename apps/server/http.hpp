#pragma once
// cpp-httplib's Server with two things it lacks: a deadline for reading a whole request (a
// client that sends one byte a second gets 408 and is closed, instead of holding a worker for
// hours; httplib's own read timeout is per recv call) and a way for a handler to see that its
// client has gone (so a generation stops within one step). Both need the connection's socket,
// which httplib does not hand to handlers: the server runs each connection through a Stream of
// its own (GuardedStream) and handlers reach it through current_connection().
#include <chrono>
#include <cstddef>
#include <vector>

#include <httplib.h>

namespace vks::server {

struct ConnectionLimits {
    std::chrono::milliseconds request_deadline{30000};  // from a request's first byte to its last
    std::chrono::milliseconds read_idle{10000};          // no byte for this long: closed
    std::chrono::milliseconds write_idle{30000};         // the client takes no byte for this long: closed
    std::chrono::milliseconds keep_alive_idle{5000};     // between requests on one connection
    size_t keep_alive_max = 100;                         // requests per connection
};

class GuardedStream final : public httplib::Stream {
public:
    GuardedStream(int fd, const ConnectionLimits& limits) : fd_(fd), limits_(limits) {}

    bool is_readable() const override;
    bool is_writable() const override;
    ssize_t read(char* ptr, size_t size) override;
    ssize_t write(const char* ptr, size_t size) override;
    void get_remote_ip_and_port(std::string& ip, int& port) const override;
    void get_local_ip_and_port(std::string& ip, int& port) const override;
    int socket() const override { return fd_; }

    // Waits up to `timeout` for the first byte of a request (buffered bytes count).
    bool wait_request(std::chrono::milliseconds timeout);
    // Starts the deadline for reading one request.
    void arm();
    // True once the peer has closed or reset the connection (never blocks).
    bool client_gone() const;
    // End the connection after the response being written (keep-alive off for it).
    void close_after_response() { close_ = true; }
    bool must_close() const { return close_ || timed_out_; }

private:
    int fd_;
    ConnectionLimits limits_;
    std::chrono::steady_clock::time_point deadline_{};
    bool timed_out_ = false;
    bool close_ = false;
    std::vector<char> buf_;   // bytes received but not yet read
    size_t buf_pos_ = 0;
};

// The GuardedStream of the connection the calling thread serves, or nullptr outside a handler.
GuardedStream* current_connection();

class GuardedServer : public httplib::Server {
public:
    explicit GuardedServer(const ConnectionLimits& limits) : limits_(limits) {}

private:
    bool process_and_close_socket(int sock) override;
    ConnectionLimits limits_;
};

}  // namespace vks::server
