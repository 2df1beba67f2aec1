package org.modnet.api.handover;

import org.modnet.api.net.NetNamespace;

/**
 * A TIME-WAIT (or orphaned FIN-WAIT-2) sock: its 4-tuple, substate, the sequence numbers and window it
 * answers with, the timestamps it checks (PAWS), the IP options of its answers, and what was left of
 * its timer in milliseconds.
 */
public record TcpTimewaitState(NetNamespace namespace, int localAddress, int localPort, int remoteAddress,
        int remotePort, int substate, int sndNxt, int rcvNxt, int rcvWnd, int rcvWscale, boolean tstampOk,
        int tsOffset, int tsRecent, long tsRecentStamp, boolean reuseAddr, int ttl, int tos, long remainingMs) {
}
