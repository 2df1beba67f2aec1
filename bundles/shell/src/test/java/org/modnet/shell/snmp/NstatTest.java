package org.modnet.shell.snmp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Proxy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.NetNamespace;

class NstatTest {
    private final NetNamespace ns = (NetNamespace) Proxy.newProxyInstance(getClass().getClassLoader(),
            new Class<?>[] { NetNamespace.class }, (p, m, a) -> m.getName().equals("hashCode") ? 1 : null);
    private final Map<String, Long> ip = new LinkedHashMap<>();
    private final SnmpMib mib = new SnmpMib() {
        @Override
        public String mib() {
            return "Ip";
        }

        @Override
        public Map<String, Long> counters(NetNamespace n) {
            return ip;
        }
    };
    private final Nstat nstat = new Nstat();

    @Test
    void absoluteWithZerosListsEveryCounterInNstatsColumns() {
        ip.put("IpInReceives", 5L);
        ip.put("IpInHdrErrors", 0L);
        List<String> lines = nstat.run(ns, List.of(mib), Nstat.parse("-az"));
        assertEquals(List.of("#kernel", "IpInReceives                    5                  0.0",
                "IpInHdrErrors                   0                  0.0"), lines);
    }

    @Test
    void withoutMinusAItShowsWhatChangedSinceTheLastRun() {
        ip.put("IpInReceives", 5L);
        nstat.run(ns, List.of(mib), Nstat.parse());
        ip.put("IpInReceives", 8L);
        assertEquals(List.of("#kernel", "IpInReceives                    3                  0.0"),
                nstat.run(ns, List.of(mib), Nstat.parse()));
        assertEquals(List.of("#kernel"), nstat.run(ns, List.of(mib), Nstat.parse()), "nothing changed since");
    }

    @Test
    void patternsSelectCountersByName() {
        ip.put("IpInReceives", 5L);
        ip.put("IpInDelivers", 4L);
        assertEquals(List.of("#kernel", "IpInDelivers                    4                  0.0"),
                nstat.run(ns, List.of(mib), Nstat.parse("-a", "*Deliv*")));
    }

    @Test
    void anUnknownOptionIsRefused() {
        assertEquals("nstat: invalid option -- 'x'", assertThrows(IllegalArgumentException.class, () -> Nstat.parse("-x")).getMessage());
    }
}
