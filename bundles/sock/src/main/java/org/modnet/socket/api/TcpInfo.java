package org.modnet.socket.api;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What {@code getsockopt(fd, IPPROTO_TCP, TCP_INFO)} returns: Linux's {@code struct tcp_info}
 * ({@code include/uapi/linux/tcp.h}), field by field in the kernel's units (microseconds for
 * {@code rto}, {@code ato}, {@code rtt}, {@code rttvar}, {@code min_rtt}; milliseconds for the
 * {@code last_*} ages; bytes, segments). {@link #write} lays it out as the kernel copies it to a C
 * caller on a little-endian machine: {@value #SIZE} bytes, the layout of Linux 6.7 and later (6.1's
 * struct is its first {@value #SIZE_6_1} bytes; a shorter buffer gets the first bytes, as
 * {@code getsockopt} truncates to the caller's length). Unsigned C fields are held in Java's signed
 * types bit for bit: read a {@code __u32} with {@link Integer#toUnsignedLong}.
 *
 * @param state tcpi_state: TCP_ESTABLISHED and the rest, as Sock numbers them
 * @param caState tcpi_ca_state: 0 Open, 1 Disorder, 2 CWR, 3 Recovery, 4 Loss
 * @param retransmits tcpi_retransmits: timeouts of the current RTO backoff (icsk_retransmits)
 * @param probes tcpi_probes: zero-window or keepalive probes unanswered
 * @param backoff tcpi_backoff: the exponent of the RTO backoff
 * @param options tcpi_options: TCPI_OPT_* bits
 * @param sndWscale tcpi_snd_wscale (low four bits of byte 6): the peer's window shift
 * @param rcvWscale tcpi_rcv_wscale (high four bits of byte 6): our window shift
 * @param deliveryRateAppLimited tcpi_delivery_rate_app_limited (bit 0 of byte 7)
 * @param fastopenClientFail tcpi_fastopen_client_fail (bits 1-2 of byte 7)
 * @param rto tcpi_rto, microseconds
 * @param ato tcpi_ato, microseconds: the delayed-ACK timeout
 * @param sndMss tcpi_snd_mss
 * @param rcvMss tcpi_rcv_mss: the MSS guessed from what arrives
 * @param unacked tcpi_unacked: segments in flight (packets_out)
 * @param sacked tcpi_sacked
 * @param lost tcpi_lost
 * @param retrans tcpi_retrans: segments retransmitted and in flight
 * @param fackets tcpi_fackets (always 0 since Linux 4.15)
 * @param lastDataSent tcpi_last_data_sent, ms ago
 * @param lastAckSent tcpi_last_ack_sent (never remembered: 0)
 * @param lastDataRecv tcpi_last_data_recv, ms ago
 * @param lastAckRecv tcpi_last_ack_recv, ms ago
 * @param pmtu tcpi_pmtu: the path MTU
 * @param rcvSsthresh tcpi_rcv_ssthresh
 * @param rtt tcpi_rtt: smoothed RTT, microseconds
 * @param rttvar tcpi_rttvar, microseconds
 * @param sndSsthresh tcpi_snd_ssthresh (0x7fffffff: TCP_INFINITE_SSTHRESH)
 * @param sndCwnd tcpi_snd_cwnd, segments
 * @param advmss tcpi_advmss
 * @param reordering tcpi_reordering
 * @param rcvRtt tcpi_rcv_rtt, microseconds
 * @param rcvSpace tcpi_rcv_space
 * @param totalRetrans tcpi_total_retrans: segments retransmitted over the connection's life
 * @param pacingRate tcpi_pacing_rate, bytes per second (~0: unlimited)
 * @param maxPacingRate tcpi_max_pacing_rate (~0: unlimited)
 * @param bytesAcked tcpi_bytes_acked (RFC 4898 tcpEStatsAppHCThruOctetsAcked)
 * @param bytesReceived tcpi_bytes_received (RFC 4898 tcpEStatsAppHCThruOctetsReceived)
 * @param segsOut tcpi_segs_out (RFC 4898 tcpEStatsPerfSegsOut)
 * @param segsIn tcpi_segs_in (RFC 4898 tcpEStatsPerfSegsIn)
 * @param notsentBytes tcpi_notsent_bytes: queued and never sent
 * @param minRtt tcpi_min_rtt, microseconds (~0: none yet)
 * @param dataSegsIn tcpi_data_segs_in (RFC 4898 tcpEStatsDataSegsIn)
 * @param dataSegsOut tcpi_data_segs_out (RFC 4898 tcpEStatsDataSegsOut)
 * @param deliveryRate tcpi_delivery_rate, bytes per second
 * @param busyTime tcpi_busy_time, microseconds busy sending data
 * @param rwndLimited tcpi_rwnd_limited, microseconds limited by the receive window
 * @param sndbufLimited tcpi_sndbuf_limited, microseconds limited by the send buffer
 * @param delivered tcpi_delivered: segments delivered, retransmitted ones included
 * @param deliveredCe tcpi_delivered_ce
 * @param bytesSent tcpi_bytes_sent (RFC 4898 tcpEStatsPerfHCDataOctetsOut), retransmissions included
 * @param bytesRetrans tcpi_bytes_retrans (RFC 4898 tcpEStatsPerfOctetsRetrans)
 * @param dsackDups tcpi_dsack_dups (RFC 4898 tcpEStatsStackDSACKDups)
 * @param reordSeen tcpi_reord_seen: reordering events seen
 * @param rcvOoopack tcpi_rcv_ooopack: out-of-order segments received
 * @param sndWnd tcpi_snd_wnd: the peer's window, scaled, bytes
 * @param rcvWnd tcpi_rcv_wnd: our advertised window, scaled, bytes (Linux 6.2)
 * @param rehash tcpi_rehash: PLB or timeout rehash attempts (Linux 6.2)
 * @param totalRto tcpi_total_rto: RTO timeouts, SYN and SYN-ACK ones included (Linux 6.7)
 * @param totalRtoRecoveries tcpi_total_rto_recoveries (Linux 6.7)
 * @param totalRtoTime tcpi_total_rto_time, ms spent in RTO recoveries (Linux 6.7)
 */
public record TcpInfo(
        int state,
        int caState,
        int retransmits,
        int probes,
        int backoff,
        int options,
        int sndWscale,
        int rcvWscale,
        boolean deliveryRateAppLimited,
        int fastopenClientFail,
        int rto,
        int ato,
        int sndMss,
        int rcvMss,
        int unacked,
        int sacked,
        int lost,
        int retrans,
        int fackets,
        int lastDataSent,
        int lastAckSent,
        int lastDataRecv,
        int lastAckRecv,
        int pmtu,
        int rcvSsthresh,
        int rtt,
        int rttvar,
        int sndSsthresh,
        int sndCwnd,
        int advmss,
        int reordering,
        int rcvRtt,
        int rcvSpace,
        int totalRetrans,
        long pacingRate,
        long maxPacingRate,
        long bytesAcked,
        long bytesReceived,
        int segsOut,
        int segsIn,
        int notsentBytes,
        int minRtt,
        int dataSegsIn,
        int dataSegsOut,
        long deliveryRate,
        long busyTime,
        long rwndLimited,
        long sndbufLimited,
        int delivered,
        int deliveredCe,
        long bytesSent,
        long bytesRetrans,
        int dsackDups,
        int reordSeen,
        int rcvOoopack,
        int sndWnd,
        int rcvWnd,
        int rehash,
        int totalRto,
        int totalRtoRecoveries,
        int totalRtoTime) {
    /** {@code sizeof(struct tcp_info)} since Linux 6.7. */
    public static final int SIZE = 248;
    /** {@code sizeof(struct tcp_info)} in Linux 6.1 (up to {@code tcpi_snd_wnd}). */
    public static final int SIZE_6_1 = 232;

    /** {@code tcpi_options} bits. */
    public static final int TCPI_OPT_TIMESTAMPS = 1;
    public static final int TCPI_OPT_SACK = 2;
    public static final int TCPI_OPT_WSCALE = 4;
    public static final int TCPI_OPT_ECN = 8;
    public static final int TCPI_OPT_ECN_SEEN = 16;
    public static final int TCPI_OPT_SYN_DATA = 32;
    public static final int TCPI_OPT_USEC_TS = 64;

    /** {@code tcpi_ca_state}: {@code enum tcp_ca_state}. */
    public static final int TCP_CA_OPEN = 0;
    public static final int TCP_CA_DISORDER = 1;
    public static final int TCP_CA_CWR = 2;
    public static final int TCP_CA_RECOVERY = 3;
    public static final int TCP_CA_LOSS = 4;

    /** {@code TCP_INFINITE_SSTHRESH}: no slow-start threshold yet. */
    public static final int INFINITE_SSTHRESH = 0x7fffffff;

    /** Writes the {@value #SIZE}-byte little-endian struct at the buffer's position, which moves past it. */
    public void write(ByteBuffer buf) {
        ByteBuffer b = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
        int at = 0;
        b.put(at + 0, (byte) state);
        b.put(at + 1, (byte) caState);
        b.put(at + 2, (byte) retransmits);
        b.put(at + 3, (byte) probes);
        b.put(at + 4, (byte) backoff);
        b.put(at + 5, (byte) options);
        b.put(at + 6, (byte) ((sndWscale & 0xf) | (rcvWscale & 0xf) << 4));
        b.put(at + 7, (byte) ((deliveryRateAppLimited ? 1 : 0) | (fastopenClientFail & 3) << 1));
        b.putInt(at + 8, rto);
        b.putInt(at + 12, ato);
        b.putInt(at + 16, sndMss);
        b.putInt(at + 20, rcvMss);
        b.putInt(at + 24, unacked);
        b.putInt(at + 28, sacked);
        b.putInt(at + 32, lost);
        b.putInt(at + 36, retrans);
        b.putInt(at + 40, fackets);
        b.putInt(at + 44, lastDataSent);
        b.putInt(at + 48, lastAckSent);
        b.putInt(at + 52, lastDataRecv);
        b.putInt(at + 56, lastAckRecv);
        b.putInt(at + 60, pmtu);
        b.putInt(at + 64, rcvSsthresh);
        b.putInt(at + 68, rtt);
        b.putInt(at + 72, rttvar);
        b.putInt(at + 76, sndSsthresh);
        b.putInt(at + 80, sndCwnd);
        b.putInt(at + 84, advmss);
        b.putInt(at + 88, reordering);
        b.putInt(at + 92, rcvRtt);
        b.putInt(at + 96, rcvSpace);
        b.putInt(at + 100, totalRetrans);
        b.putLong(at + 104, pacingRate);
        b.putLong(at + 112, maxPacingRate);
        b.putLong(at + 120, bytesAcked);
        b.putLong(at + 128, bytesReceived);
        b.putInt(at + 136, segsOut);
        b.putInt(at + 140, segsIn);
        b.putInt(at + 144, notsentBytes);
        b.putInt(at + 148, minRtt);
        b.putInt(at + 152, dataSegsIn);
        b.putInt(at + 156, dataSegsOut);
        b.putLong(at + 160, deliveryRate);
        b.putLong(at + 168, busyTime);
        b.putLong(at + 176, rwndLimited);
        b.putLong(at + 184, sndbufLimited);
        b.putInt(at + 192, delivered);
        b.putInt(at + 196, deliveredCe);
        b.putLong(at + 200, bytesSent);
        b.putLong(at + 208, bytesRetrans);
        b.putInt(at + 216, dsackDups);
        b.putInt(at + 220, reordSeen);
        b.putInt(at + 224, rcvOoopack);
        b.putInt(at + 228, sndWnd);
        b.putInt(at + 232, rcvWnd);
        b.putInt(at + 236, rehash);
        b.putShort(at + 240, (short) totalRto);
        b.putShort(at + 242, (short) totalRtoRecoveries);
        b.putInt(at + 244, totalRtoTime);
        buf.position(buf.position() + SIZE);
    }

    /** The struct's bytes, as a C caller of {@code getsockopt} receives them. */
    public byte[] toBytes() {
        byte[] bytes = new byte[SIZE];
        write(ByteBuffer.wrap(bytes));
        return bytes;
    }

    /**
     * Fills {@code out} with the struct's 32-bit words as a little-endian machine reads them
     * ({@code getsockopt} with an {@code int[]}); returns how many it filled: the struct's
     * {@value #SIZE} / 4, or fewer when {@code out} is shorter (the rest is cut, as Linux cuts).
     */
    public int words(int[] out) {
        ByteBuffer b = ByteBuffer.wrap(toBytes()).order(ByteOrder.LITTLE_ENDIAN);
        int n = Math.min(out.length, SIZE / 4);
        for (int i = 0; i < n; i++) {
            out[i] = b.getInt(i * 4);
        }
        return n;
    }

    /** Reads a struct of {@value #SIZE} little-endian bytes at the buffer's position (which does not move). */
    public static TcpInfo read(ByteBuffer buf) {
        if (buf.remaining() < SIZE) {
            throw new IllegalArgumentException("struct tcp_info is " + SIZE + " bytes, not " + buf.remaining());
        }
        ByteBuffer b = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
        int at = 0;
        return new TcpInfo(b.get(at + 0) & 0xff,
                b.get(at + 1) & 0xff,
                b.get(at + 2) & 0xff,
                b.get(at + 3) & 0xff,
                b.get(at + 4) & 0xff,
                b.get(at + 5) & 0xff,
                b.get(at + 6) & 0xf,
                (b.get(at + 6) >>> 4) & 0xf,
                (b.get(at + 7) & 1) != 0,
                (b.get(at + 7) >>> 1) & 3,
                b.getInt(at + 8),
                b.getInt(at + 12),
                b.getInt(at + 16),
                b.getInt(at + 20),
                b.getInt(at + 24),
                b.getInt(at + 28),
                b.getInt(at + 32),
                b.getInt(at + 36),
                b.getInt(at + 40),
                b.getInt(at + 44),
                b.getInt(at + 48),
                b.getInt(at + 52),
                b.getInt(at + 56),
                b.getInt(at + 60),
                b.getInt(at + 64),
                b.getInt(at + 68),
                b.getInt(at + 72),
                b.getInt(at + 76),
                b.getInt(at + 80),
                b.getInt(at + 84),
                b.getInt(at + 88),
                b.getInt(at + 92),
                b.getInt(at + 96),
                b.getInt(at + 100),
                b.getLong(at + 104),
                b.getLong(at + 112),
                b.getLong(at + 120),
                b.getLong(at + 128),
                b.getInt(at + 136),
                b.getInt(at + 140),
                b.getInt(at + 144),
                b.getInt(at + 148),
                b.getInt(at + 152),
                b.getInt(at + 156),
                b.getLong(at + 160),
                b.getLong(at + 168),
                b.getLong(at + 176),
                b.getLong(at + 184),
                b.getInt(at + 192),
                b.getInt(at + 196),
                b.getLong(at + 200),
                b.getLong(at + 208),
                b.getInt(at + 216),
                b.getInt(at + 220),
                b.getInt(at + 224),
                b.getInt(at + 228),
                b.getInt(at + 232),
                b.getInt(at + 236),
                b.getShort(at + 240) & 0xffff,
                b.getShort(at + 242) & 0xffff,
                b.getInt(at + 244));
    }
}
