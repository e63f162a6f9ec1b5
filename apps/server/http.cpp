#include "server/http.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace vks::server {

namespace {

using Clock = std::chrono::steady_clock;
thread_local GuardedStream* t_connection = nullptr;

// poll() for `events` up to `ms` (EINTR retried with the time left). >0 ready, 0 timeout, <0 error.
int wait_fd(int fd, short events, std::chrono::milliseconds ms) {
    const auto end = Clock::now() + ms;
    for (;;) {
        pollfd p{fd, events, 0};
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
        int r = ::poll(&p, 1, int(std::max<long long>(left, 0)));
        if (r < 0 && errno == EINTR) continue;
        if (r > 0 && (p.revents & (POLLERR | POLLNVAL)) && !(p.revents & events)) return -1;
        return r;
    }
}

void addr_string(const sockaddr_storage& a, std::string& ip, int& port) {
    char host[NI_MAXHOST] = {0}, serv[NI_MAXSERV] = {0};
    if (getnameinfo(reinterpret_cast<const sockaddr*>(&a), sizeof a, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
        ip = host;
        port = std::atoi(serv);
    }
}

// The 408 answer to a request that missed its deadline (built once).
const std::string& timeout_response() {
    static const std::string body =
        R"({"error":{"message":"the request was not received in time","type":"timeout_error","param":null,"code":null}})";
    static const std::string r = "HTTP/1.1 408 Request Timeout\r\nContent-Type: application/json\r\nConnection: close\r\n"
                                 "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    return r;
}

}  // namespace

GuardedStream* current_connection() { return t_connection; }

bool GuardedStream::is_readable() const {
    return buf_pos_ < buf_.size() || wait_fd(fd_, POLLIN, limits_.read_idle) > 0;
}

bool GuardedStream::is_writable() const { return wait_fd(fd_, POLLOUT, limits_.write_idle) > 0; }

bool GuardedStream::wait_request(std::chrono::milliseconds timeout) {
    return buf_pos_ < buf_.size() || wait_fd(fd_, POLLIN, timeout) > 0;
}

void GuardedStream::arm() {
    deadline_ = Clock::now() + limits_.request_deadline;
    timed_out_ = false;
}

ssize_t GuardedStream::read(char* ptr, size_t size) {
    if (buf_pos_ >= buf_.size()) {
        if (timed_out_) return -1;
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline_ - Clock::now());
        const bool deadline_first = left <= limits_.read_idle;  // the request deadline ends the wait, not idleness
        const int ready = left.count() > 0 ? wait_fd(fd_, POLLIN, std::min(left, limits_.read_idle)) : 0;
        if (ready <= 0) {
            if (ready == 0 && deadline_first) {
                // Whole-request deadline: nothing of a response has been sent (reads happen before
                // it), so a 408 can go out before the connection closes.
                timed_out_ = true;
                const std::string& r = timeout_response();
                (void)!::send(fd_, r.data(), r.size(), MSG_NOSIGNAL);
            }
            return -1;
        }
        // httplib reads request lines a byte at a time: buffer so that is not a syscall a byte.
        buf_.resize(16384);
        ssize_t n;
        do n = ::recv(fd_, buf_.data(), buf_.size(), 0);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            buf_.clear();
            buf_pos_ = 0;
            return n;
        }
        buf_.resize(size_t(n));
        buf_pos_ = 0;
    }
    size_t n = std::min(size, buf_.size() - buf_pos_);
    std::memcpy(ptr, buf_.data() + buf_pos_, n);
    buf_pos_ += n;
    return ssize_t(n);
}

ssize_t GuardedStream::write(const char* ptr, size_t size) {
    if (wait_fd(fd_, POLLOUT, limits_.write_idle) <= 0) return -1;
    ssize_t n;
    do n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
}

bool GuardedStream::client_gone() const {
    pollfd p{fd_, short(POLLIN | POLLRDHUP), 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return true;
    char c;
    ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

void GuardedStream::get_remote_ip_and_port(std::string& ip, int& port) const {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (getpeername(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) addr_string(a, ip, port);
}

void GuardedStream::get_local_ip_and_port(std::string& ip, int& port) const {
    sockaddr_storage a{};
    socklen_t len = sizeof a;
    if (getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) addr_string(a, ip, port);
}

bool GuardedServer::process_and_close_socket(int sock) {
    GuardedStream strm(sock, limits_);
    t_connection = &strm;
    bool ok = false;
    for (size_t i = 0; i < limits_.keep_alive_max && is_running(); ++i) {
        if (!strm.wait_request(i == 0 ? limits_.read_idle : limits_.keep_alive_idle)) break;
        strm.arm();
        bool closed = false;
        ok = process_request(strm, i + 1 == limits_.keep_alive_max, closed, nullptr);
        if (!ok || closed || strm.must_close()) break;
    }
    t_connection = nullptr;
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
}

}  // namespace vks::server
