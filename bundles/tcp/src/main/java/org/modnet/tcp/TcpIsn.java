package org.modnet.tcp;

import java.security.SecureRandom;
import java.util.function.LongSupplier;

/**
 * Initial sequence numbers (RFC 6528) and timestamp offsets, as Linux's {@code secure_tcp_seq} and
 * {@code secure_tcp_ts_off} make them ({@code net/core/secure_seq.c}).
 *
 * <p>ISN = F(4-tuple, secret) + M, with F SipHash-2-4 keyed by a secret drawn once (per boot in Linux;
 * here per instance — hand the secrets over on an update to keep ISNs monotonic) and M a clock ticking
 * every 64 ns (period about 274 s, so the sequence space turns less than once per MSL at 10 Gbit/s).
 * The hashed message is the bytes Linux hashes on a little-endian machine: source address, destination
 * address (network order), then the destination and source port. M comes from the core's clock, not
 * the wall clock, so tests on virtual time see the same ISNs every run.
 *
 * <p>With {@code tcp_timestamps=1} every connection's timestamps start at a random offset,
 * SipHash of the address pair under a second secret; 0 (off) and 2 (no offsets) give 0.
 */
final class TcpIsn {
    private final LongSupplier nanos;
    // not final: a version started beside its predecessor's stop makes its namespaces before the keys come
    // with the deposit (adoptKeys); set before any of them is published to a segment or a call
    private long seqK0;
    private long seqK1;
    private long tsK0;
    private long tsK1;

    /** Fresh secrets from {@link SecureRandom}; {@code nanos} is the core's clock. */
    TcpIsn(LongSupplier nanos) {
        this(nanos, new SecureRandom());
    }

    private TcpIsn(LongSupplier nanos, SecureRandom random) {
        this(nanos, random.nextLong(), random.nextLong(), random.nextLong(), random.nextLong());
    }

    /** Given secrets: for tests, and to carry the secrets over a bundle update. */
    TcpIsn(LongSupplier nanos, long seqK0, long seqK1, long tsK0, long tsK1) {
        this.nanos = nanos;
        this.seqK0 = seqK0;
        this.seqK1 = seqK1;
        this.tsK0 = tsK0;
        this.tsK1 = tsK1;
    }

    /**
     * The previous version's secrets, which its deposit carries: set before this version's namespaces,
     * made while it waited for that deposit, see any segment or call (its services are not registered yet).
     */
    void adoptKeys(long seqK0, long seqK1, long tsK0, long tsK1) {
        this.seqK0 = seqK0;
        this.seqK1 = seqK1;
        this.tsK0 = tsK0;
        this.tsK1 = tsK1;
    }

    /** The secrets (ISN key, then timestamp-offset key), to hand over on an update. */
    long[] keys() {
        return new long[] { seqK0, seqK1, tsK0, tsK1 };
    }

    /** {@code secure_tcp_seq}: the ISN of a connection from saddr:sport to daddr:dport (host-order ints). */
    int seq(int saddr, int daddr, int sport, int dport) {
        return hash(saddr, daddr, sport, dport) + (int) (nanos.getAsLong() >>> 6);
    }

    /** F alone, without the clock: the keyed hash of the 4-tuple. */
    int hash(int saddr, int daddr, int sport, int dport) {
        int ports = (Short.reverseBytes((short) sport) & 0xffff) << 16 | Short.reverseBytes((short) dport) & 0xffff;
        return (int) SipHash.hash3u32(seqK0, seqK1, Integer.reverseBytes(saddr), Integer.reverseBytes(daddr), ports);
    }

    /**
     * {@code secure_tcp_ts_off}: the offset added to this connection's timestamps, for the value of
     * {@code net.ipv4.tcp_timestamps}.
     */
    int tsOff(int tcpTimestamps, int saddr, int daddr) {
        if (tcpTimestamps != 1) {
            return 0;
        }
        return (int) SipHash.hash2u32(tsK0, tsK1, Integer.reverseBytes(saddr), Integer.reverseBytes(daddr));
    }
}
