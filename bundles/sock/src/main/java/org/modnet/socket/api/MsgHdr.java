package org.modnet.socket.api;

import java.nio.ByteBuffer;

/**
 * {@code struct msghdr} for {@code sendmsg}/{@code recvmsg}: the peer's address ({@code msg_name}), the
 * buffers gathered from or scattered into ({@code msg_iov}, each from its position to its limit), and
 * the flags {@code recvmsg} reports ({@code MSG_TRUNC} when the datagram did not fit).
 */
public final class MsgHdr {
    public SockAddr name;
    public ByteBuffer[] iov;
    public int flags;
    /**
     * The {@code IP_RECVERR} control message {@code recvmsg(MSG_ERRQUEUE)} fills in: the queued error,
     * null otherwise. @since 1.12
     */
    public SockExtendedErr extendedErr;
    /**
     * The {@code IP_TTL} control message ({@code IP_RECVTTL} set) of {@code recvmsg(MSG_ERRQUEUE)}: the
     * TTL the ICMP error arrived with; -1 otherwise. @since 1.13
     */
    public int ttl = -1;

    public MsgHdr(SockAddr name, ByteBuffer... iov) {
        this.name = name;
        this.iov = iov;
    }
}
