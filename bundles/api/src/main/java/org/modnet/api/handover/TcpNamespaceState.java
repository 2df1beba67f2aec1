package org.modnet.api.handover;

import java.util.Map;

import org.modnet.api.net.NetNamespace;

/**
 * One namespace's TCP secrets and counters: the ISN and timestamp-offset keys ({@code secure_tcp_seq},
 * {@code secure_tcp_ts_off}) and the syncookie key, so the ISNs a new connection takes and the cookies
 * sent before the swap stay valid after it; when a listener last sent a cookie is each listener's;
 * and the {@code Tcp} and {@code TcpExt} MIBs by nstat's names, which continue where they were.
 */
public record TcpNamespaceState(NetNamespace namespace, long isnKey0, long isnKey1, long tsKey0, long tsKey1,
        long cookieKey0, long cookieKey1, Map<String, Long> mib) {
    public TcpNamespaceState {
        mib = Map.copyOf(mib);
    }
}
