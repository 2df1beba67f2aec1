package org.modnet.api.handover;

/**
 * What the handshake agreed and what the options keep: the MSS we send with, the one we advertised, the
 * peer's clamp and {@code TCP_MAXSEG}; window scaling, timestamps and SACK permitted; the peer's last
 * timestamp ({@code ts_recent}), when it was stored (the core clock's milliseconds) and our offset.
 */
public record TcpNegotiated(int mss, int advmss, int mssClamp, int userMss, boolean wscaleOk, boolean tstampOk,
        boolean sackOk, int tsRecent, long tsRecentStampMs, int tsOffset) {
}
