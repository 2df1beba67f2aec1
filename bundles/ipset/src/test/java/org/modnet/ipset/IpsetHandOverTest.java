package org.modnet.ipset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.api.handover.StateHolder;
import org.modnet.api.handover.TableState;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetNamespace;

/** The sets across {@code update ipset}: the next version adopts them with their elements, timeouts and counters. */
class IpsetHandOverTest {
    private final long[] now = { 5_000_000_000L };
    private final NetCore core = (NetCore) Proxy.newProxyInstance(NetCore.class.getClassLoader(), new Class<?>[] { NetCore.class },
            (p, m, a) -> switch (m.getName()) {
                case "nanoTime" -> now[0];
                case "hashCode" -> 7;
                case "equals" -> p == a[0];
                default -> null;
            });
    private final NetNamespace ns = (NetNamespace) Proxy.newProxyInstance(NetNamespace.class.getClassLoader(),
            new Class<?>[] { NetNamespace.class }, (p, m, a) -> switch (m.getName()) {
                case "hashCode" -> 1;
                case "equals" -> p == a[0];
                default -> null;
            });
    private final Holder holder = new Holder();

    static final class Holder implements StateHolder {
        final Map<String, TableState> deposits = new HashMap<>();
        final List<String> refusals = new ArrayList<>();

        @Override
        public void deposit(TableState state) {
            deposits.put(state.layer(), state);
        }

        @Override
        public TableState take(String layer) {
            return deposits.remove(layer);
        }

        @Override
        public void refuse(TableState state, String why) {
            refusals.add(why);
        }

        @Override
        public Map<String, Long> counters() {
            return Map.of();
        }
    }

    private static List<String> ipset(IpsetComponent c, NetNamespace ns, String line) {
        return c.run(ns, List.of(), line.split(" "));
    }

    private IpsetComponent oldVersionWithSets() {
        IpsetComponent old = new IpsetComponent(core, holder, () -> true, IpsetComponent.STATE_VERSION);
        ipset(old, ns, "create blocked hash:ip timeout 600");
        ipset(old, ns, "add blocked 10.0.0.1");
        ipset(old, ns, "add blocked 10.0.0.2 timeout 30");
        ipset(old, ns, "create nets hash:net counters");
        ipset(old, ns, "add nets 192.168.0.0/16");
        ipset(old, ns, "create svc hash:ip,port");
        ipset(old, ns, "add svc 10.0.0.9,tcp:80");
        return old;
    }

    @Test
    void setsWithTheirElementsAndTimeoutsGoToTheNextVersion() {
        IpsetComponent old = oldVersionWithSets();
        now[0] += 10_000_000_000L; // ten seconds go by before the update
        List<String> before = ipset(old, ns, "save");
        assertTrue(before.contains("add blocked 10.0.0.2 timeout 20"), before.toString());
        old.exit(ns); // the core takes the namespace operations away first: an update keeps the sets
        old.deactivate();
        IpsetComponent next = new IpsetComponent(core, holder, () -> false, IpsetComponent.STATE_VERSION);
        assertNull(holder.deposits.get(IpsetComponent.LAYER), "taken");
        assertEquals(List.of(), holder.refusals);
        assertEquals(before, ipset(next, ns, "save"));
        // the adopted timeouts run on: 10.0.0.2 has 20 seconds left, not a new 30 or the set's 600
        now[0] += 21_000_000_000L;
        List<String> later = ipset(next, ns, "save");
        assertTrue(later.stream().noneMatch(l -> l.startsWith("add blocked 10.0.0.2")), later.toString());
        assertTrue(later.contains("add blocked 10.0.0.1 timeout 569"), later.toString());
        assertEquals(List.of(), ipset(next, ns, "test svc 10.0.0.9,tcp:80").stream().filter(l -> l.contains("NOT")).toList());
    }

    @Test
    void aStopThatIsNoUpdateDepositsNothingAndTakesTheSetsAway() {
        IpsetComponent old = new IpsetComponent(core, holder, () -> false, IpsetComponent.STATE_VERSION);
        ipset(old, ns, "create a hash:ip");
        old.exit(ns);
        old.deactivate();
        assertTrue(holder.deposits.isEmpty());
        IpsetComponent next = new IpsetComponent(core, holder, () -> false, IpsetComponent.STATE_VERSION);
        assertEquals(List.of(), ipset(next, ns, "list -n"));
    }

    @Test
    void aStateVersionItCannotReadIsRefusedAndTheNewVersionStartsEmpty() {
        IpsetComponent old = new IpsetComponent(core, holder, () -> true, IpsetComponent.STATE_VERSION + 1);
        ipset(old, ns, "create a hash:ip");
        old.deactivate();
        IpsetComponent next = new IpsetComponent(core, holder, () -> false, IpsetComponent.STATE_VERSION);
        assertEquals(List.of("this ipset reads state version 1, the deposit is version 2"), holder.refusals);
        assertEquals(List.of(), ipset(next, ns, "list -n"));
    }
}
