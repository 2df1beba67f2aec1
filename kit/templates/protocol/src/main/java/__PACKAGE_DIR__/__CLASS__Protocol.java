package __PACKAGE__;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.modnet.api.inet.InetProtocol;
import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.PernetOperations;
import org.modnet.api.skb.SkBuff;
import org.osgi.service.component.annotations.Component;

/**
 * IP protocol __NAME__ (number 253, RFC 3692's experimental one: change {@code modnet.ipproto}): an
 * {@code inet_add_protocol} handler. IPv4 hands it every datagram for the protocol with the data at the
 * transport header; it owns the skb and ends every path on a counter. Per-namespace state comes and goes
 * with {@link #init}/{@link #exit} ({@code register_pernet_subsys}); {@code nstat} shows its MIB.
 */
@Component(service = { InetProtocol.class, PernetOperations.class, SnmpMib.class }, immediate = true,
        property = { InetProtocol.PROTOCOL + ":Integer=253", PernetOperations.ORDER + ":Integer=40" })
public final class __CLASS__Protocol implements InetProtocol, PernetOperations, SnmpMib {
    /** One namespace's counters. */
    static final class Net {
        final AtomicLong inDatagrams = new AtomicLong();
        final AtomicLong inErrors = new AtomicLong();
    }

    private final Map<NetNamespace, Net> nets = new ConcurrentHashMap<>();

    @Override
    public void init(NetNamespace ns) {
        nets.put(ns, new Net());
    }

    @Override
    public void exit(NetNamespace ns) {
        nets.remove(ns);
    }

    @Override
    public void receive(SkBuff skb) {
        Net net = skb.dev() == null ? null : nets.get(skb.dev().namespace());
        if (net != null) {
            if (skb.len() < 4) {
                net.inErrors.incrementAndGet(); // too short for a header of ours
            } else {
                net.inDatagrams.incrementAndGet();
            }
        }
        skb.free();
    }

    @Override
    public String mib() {
        return "__CLASS__";
    }

    @Override
    public Map<String, Long> counters(NetNamespace ns) {
        Net net = nets.get(ns);
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("InDatagrams", net == null ? 0 : net.inDatagrams.get());
        m.put("InErrors", net == null ? 0 : net.inErrors.get());
        return m;
    }

    /** For tests: a namespace's state, or null. */
    Net net(NetNamespace ns) {
        return nets.get(ns);
    }
}
