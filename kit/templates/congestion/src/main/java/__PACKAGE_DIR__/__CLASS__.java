package __PACKAGE__;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.modnet.api.module.ModuleUsage;
import org.modnet.api.tcp.TcpCongestion;
import org.modnet.api.tcp.TcpCongestionOps;
import org.modnet.api.tcp.TcpCongestionState;
import org.osgi.service.component.annotations.Component;

/**
 * TCP congestion control "__NAME__" (a {@code struct tcp_congestion_ops}): listed in
 * {@code net.ipv4.tcp_available_congestion_control} while this bundle runs; chosen with
 * {@code sysctl -w net.ipv4.tcp_congestion_control=__NAME__} or {@code setsockopt(TCP_CONGESTION)}.
 * It starts as Reno: change {@link #ssthresh} and {@link #congAvoid}, keep per-connection state in
 * {@link State}. Everything but init and release runs on the packet path: no allocation, no lock, no log.
 */
@Component(service = { TcpCongestionOps.class, ModuleUsage.class }, immediate = true, property = TcpCongestionOps.NAME + "=__NAME__")
public final class __CLASS__ implements TcpCongestionOps, ModuleUsage {
    /** Connections between init and release: lsmod's "Used by", what rmmod refuses on (Linux's module refcount). */
    private final AtomicInteger connections = new AtomicInteger();

    /** What one connection keeps ({@code icsk_ca_priv}): made once, in init. */
    static final class State {
        long acked;
    }

    @Override
    public String name() {
        return "__NAME__";
    }

    @Override
    public Object init(TcpCongestionState sk) {
        connections.incrementAndGet();
        return new State();
    }

    @Override
    public void release(TcpCongestionState sk) {
        connections.decrementAndGet();
    }

    @Override
    public Map<String, Integer> users() {
        return Map.of(SOCKETS, connections.get());
    }

    @Override
    public int ssthresh(TcpCongestionState sk) {
        return TcpCongestion.renoSsthresh(sk);
    }

    @Override
    public void congAvoid(TcpCongestionState sk, int ack, int acked) {
        ((State) sk.priv()).acked += acked;
        TcpCongestion.renoCongAvoid(sk, acked);
    }
}
