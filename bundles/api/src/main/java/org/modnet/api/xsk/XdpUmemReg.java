package org.modnet.api.xsk;

import java.lang.foreign.MemorySegment;

/**
 * {@code struct xdp_umem_reg}: the UMEM an AF_XDP socket's frames live in — {@code area} (native,
 * page-aligned memory the program allocated), cut into chunks of {@code chunkSize} bytes (a power of
 * two from 2048 to 4096), each frame written {@code headroom} bytes plus {@link #XDP_PACKET_HEADROOM}
 * into its chunk. Only aligned chunks ({@code flags} 0).
 */
public record XdpUmemReg(MemorySegment area, int chunkSize, int headroom, int flags) {
    /** The headroom the kernel keeps before each received frame, for XDP programs. */
    public static final int XDP_PACKET_HEADROOM = 256;
    /** The smallest chunk ({@code XDP_UMEM_MIN_CHUNK_SIZE}). */
    public static final int XDP_UMEM_MIN_CHUNK_SIZE = 2048;
    /** {@code XDP_UMEM_UNALIGNED_CHUNK_FLAG}: not offered by modnet. */
    public static final int XDP_UMEM_UNALIGNED_CHUNK_FLAG = 1;
    /** libxdp's default: 4096-byte chunks ({@code XSK_UMEM__DEFAULT_FRAME_SIZE}). */
    public static final int XSK_UMEM__DEFAULT_FRAME_SIZE = 4096;
}
