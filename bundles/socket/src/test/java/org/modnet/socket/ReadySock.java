package org.modnet.socket;

import java.nio.ByteBuffer;

import org.modnet.api.skb.SkBuff;
import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockAddr;
import org.modnet.socket.api.SocketCalls;

/**
 * The epoll tests' socket: a TCP-looking socket that sends nothing, always readable and writable unless
 * a test's subclass polls otherwise, and wakes its waiters on demand as data arriving does.
 */
class ReadySock extends Sock {
    ReadySock(LoopStack stack) {
        super(stack.stack.core().initNet(), SocketCalls.SOCK_STREAM, SocketCalls.IPPROTO_TCP, null);
    }

    @Override
    public int poll() {
        return SocketCalls.POLLIN | SocketCalls.POLLOUT;
    }

    /** What a softirq does when data arrives for the socket: wakes its waiters. */
    void arrive() {
        wakeUp();
    }

    @Override
    public void bind(SockAddr addr) {
    }

    @Override
    public void connect(SockAddr addr) {
    }

    @Override
    public int sendmsg(ByteBuffer[] iov, SockAddr to, int flags) {
        return 0;
    }

    @Override
    protected SockAddr source(SkBuff skb) {
        return null;
    }

    @Override
    protected void release() {
    }

    @Override
    public String netid() {
        return "tcp";
    }
}
