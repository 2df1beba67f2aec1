package org.modnet.api.xsk;

import org.modnet.api.net.NetException;
import org.osgi.annotation.versioning.ProviderType;

/**
 * An AF_XDP socket ({@code net/xdp/xsk.c}), used in the order the kernel's uapi asks: {@link #umemReg}
 * ({@code setsockopt(XDP_UMEM_REG)}), {@link #ringSize} for the fill and completion rings and at least
 * one of RX and TX ({@code setsockopt(XDP_UMEM_FILL_RING, ...)}), {@link #ring} for their memory (what
 * {@code mmap} at {@code XDP_PGOFF_RX_RING}... gives), then {@link #bind} to a device's queue. Put the
 * socket's {@link #fd} into an xskmap at the queue's index and an XDP program's
 * {@code bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS)} hands it that queue's frames: each
 * copied into a chunk the program put on the fill ring, described on the RX ring. Frames described on
 * the TX ring leave through the device when {@link #sendto} kicks it, their chunks then on the
 * completion ring. Every refusal is a {@link NetException} with the errno Linux gives.
 */
@ProviderType
public interface XdpSocket extends AutoCloseable {
    /** {@code setsockopt(SOL_XDP, ...)}'s ring options, also the rings' names for {@link #ring}. */
    int XDP_RX_RING = 2;
    int XDP_TX_RING = 3;
    int XDP_UMEM_FILL_RING = 5;
    int XDP_UMEM_COMPLETION_RING = 6;

    /** {@code struct sockaddr_xdp.sxdp_flags}. */
    int XDP_SHARED_UMEM = 1 << 0;
    int XDP_COPY = 1 << 1;
    int XDP_ZEROCOPY = 1 << 2;
    int XDP_USE_NEED_WAKEUP = 1 << 3;

    /** The descriptor's {@code options} bit for a frame continued in the next one ({@code XDP_PKT_CONTD}). */
    int XDP_PKT_CONTD = 1;

    /** Its file descriptor: what an xskmap's value names. Never 0. */
    int fd();

    /** {@code XDP_UMEM_REG}: EINVAL for a bad area, chunk size or headroom, EBUSY once registered. */
    void umemReg(XdpUmemReg reg) throws NetException;

    /** The ring's size ({@code XDP_RX_RING}...): a power of two; EINVAL otherwise, EBUSY after bind. */
    void ringSize(int ring, int entries) throws NetException;

    /** The program's view of a ring it sized (EINVAL for one it did not): the memory the stack shares. */
    XskRing ring(int ring) throws NetException;

    /**
     * {@code bind(sockaddr_xdp)} to queue {@code queueId} of the device {@code ifindex} in the socket's
     * namespace, in copy mode: ENODEV for no such device, EINVAL for a queue it lacks, a socket without
     * UMEM or rings, or a second bind; EBUSY when another socket has the queue; EOPNOTSUPP for
     * {@link #XDP_ZEROCOPY} or {@link #XDP_SHARED_UMEM}, which modnet does not offer.
     */
    void bind(int ifindex, int queueId, int flags) throws NetException;

    /**
     * {@code sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0)}: sends what the TX ring describes, up to a
     * batch; ENXIO when unbound, ENETDOWN when the device is down, EAGAIN when the completion ring is
     * full (or the batch ended with more to send), ENOBUFS without a buffer for a frame.
     */
    void sendto() throws NetException;

    /** {@code poll(POLLIN)}: waits up to {@code timeoutNanos} for a descriptor on the RX ring; true if one is there. */
    boolean poll(long timeoutNanos) throws InterruptedException;

    /** {@code getsockopt(SOL_XDP, XDP_STATISTICS)}. */
    XdpStatistics statistics();

    /** Unbinds it, and takes it out of every xskmap that names it, as closing its fd does. */
    @Override
    void close();
}
