package org.modnet.socket;

import org.modnet.socket.api.Sock;
import org.modnet.socket.api.SockException;

/**
 * Makes socket filters from what {@code setsockopt} gives: present only while the eBPF layer is (the
 * socket bundle imports its API optionally), so a host without it still has sockets and answers
 * SO_ATTACH_FILTER and SO_ATTACH_BPF with ENOPROTOOPT.
 */
interface SkFilterLoader {
    /** {@code SO_ATTACH_FILTER}: a classic program, checked and translated; EINVAL when the checker refuses it. */
    Sock.Filter classic(long[] insns) throws SockException;

    /** {@code SO_ATTACH_BPF}: the loaded program of this id; EBADF for none, EINVAL when it is not a socket filter. */
    Sock.Filter bpf(int progId) throws SockException;
}
