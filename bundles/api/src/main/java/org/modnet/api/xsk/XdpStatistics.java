package org.modnet.api.xsk;

/**
 * {@code struct xdp_statistics}, as {@code getsockopt(SOL_XDP, XDP_STATISTICS)} gives it:
 * {@code rxDropped} frames dropped for other reasons (no fill-ring chunk, too long for a chunk),
 * descriptors the program got wrong on the RX and TX rings ({@code rx_invalid_descs} and
 * {@code tx_invalid_descs}), frames dropped for a full RX ring ({@code rx_ring_full}), the times a frame
 * found the fill ring empty ({@code rx_fill_ring_empty_descs}) and a send the TX ring empty
 * ({@code tx_ring_empty_descs}).
 */
public record XdpStatistics(long rxDropped, long rxInvalidDescs, long txInvalidDescs, long rxRingFull, long rxFillRingEmptyDescs,
        long txRingEmptyDescs) {
}
