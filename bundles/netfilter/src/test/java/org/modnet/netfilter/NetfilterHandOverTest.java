package org.modnet.netfilter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Proxy;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.modnet.api.handover.StateHolder;
import org.modnet.api.handover.TableState;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.netfilter.NfHook;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;
import org.modnet.api.skb.SkBuffPool;

/** The iptables tables handed from one version of the bundle to the next, with their counters. */
class NetfilterHandOverTest {
    private static final ZonedDateTime AT = ZonedDateTime.of(2026, 12, 5, 4, 0, 0, 0, ZoneOffset.UTC);
    private final SkBuffPool pool = new SkBuffPool(16, 512);
    private final Holder holder = new Holder();
    private final NetNamespace one = ns(1), two = ns(2);

    /** The core's holder, as TableHolder keeps deposits. */
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

    private static NetNamespace ns(int id) {
        return (NetNamespace) Proxy.newProxyInstance(NetNamespace.class.getClassLoader(), new Class<?>[] { NetNamespace.class },
                (p, m, a) -> m.getName().equals("hashCode") ? id : m.getName().equals("equals") ? p == a[0] : null);
    }

    private static NetDevice dev(String name) {
        return (NetDevice) Proxy.newProxyInstance(NetDevice.class.getClassLoader(), new Class<?>[] { NetDevice.class },
                (p, m, a) -> m.getName().equals("name") ? name : m.getName().equals("hashCode") ? 1 : null);
    }

    private SkBuff udp(String src, String dst, int dport) {
        SkBuff skb = pool.alloc(200);
        skb.reserve(32);
        skb.put(38);
        skb.resetNetworkHeader();
        int nh = skb.networkHeader();
        skb.setU8(nh, 0x45);
        skb.setU16(nh + 2, 38);
        skb.setU8(nh + 8, 64);
        skb.setU8(nh + 9, 17);
        skb.setU32(nh + 12, Iptables.address(src)[0]);
        skb.setU32(nh + 16, Iptables.address(dst)[0]);
        skb.setU16(nh + 20, 5000);
        skb.setU16(nh + 22, dport);
        return skb;
    }

    private IptablesCommand version(boolean updating, int stateVersion) {
        return new IptablesCommand(null, holder, null, () -> updating, stateVersion);
    }

    private static void ipt(IptablesCommand c, NetNamespace ns, String line) {
        c.run(ns, org.modnet.netfilter.Restore.split(line).toArray(new String[0]));
    }

    /** A router's firewall: user chain, DROP policy, stateful-looking rules, a nat table. */
    private IptablesCommand oldVersionWithTraffic() {
        IptablesCommand old = version(true, IptablesCommand.STATE_VERSION);
        ipt(old, one, "-N allowed");
        ipt(old, one, "-A allowed -p udp --dport 53 -j ACCEPT");
        ipt(old, one, "-A FORWARD -i eth0 -j allowed");
        ipt(old, one, "-A FORWARD -p udp --dport 9 -j DROP");
        ipt(old, one, "-P FORWARD DROP");
        ipt(old, one, "-t nat -A POSTROUTING -o eth1 -j MASQUERADE");
        ipt(old, two, "-A INPUT -s 10.9.0.0/16 -j DROP");
        ipt(old, two, "-t raw -A PREROUTING -p udp --dport 53 -j NOTRACK");
        ipt(old, two, "-t mangle -A FORWARD -p tcp --syn -j TCPMSS --set-mss 1200");
        ipt(old, one, "-t mangle -A PREROUTING -m limit --limit 5/min -j MARK --set-mark 7");
        NetDevice eth0 = dev("eth0");
        for (int i = 0; i < 3; i++) {
            assertEquals(Verdict.ACCEPT, old.hook(udp("10.0.0.1", "8.8.8.8", 53), NfHook.FORWARD, one, eth0, null));
        }
        assertEquals(Verdict.DROP, old.hook(udp("10.0.0.1", "8.8.8.8", 9), NfHook.FORWARD, one, eth0, null));
        assertEquals(Verdict.DROP, old.hook(udp("10.0.0.1", "8.8.8.8", 7), NfHook.FORWARD, one, eth0, null));
        assertEquals(Verdict.DROP, old.hook(udp("10.9.1.1", "10.0.0.2", 7), NfHook.LOCAL_IN, two, eth0, null));
        return old;
    }

    @Test
    void rulesChainsPoliciesAndCountersGoToTheNextVersion() {
        IptablesCommand old = oldVersionWithTraffic();
        List<String> before1 = old.save(one, null, true, AT);
        List<String> before2 = old.save(two, null, true, AT);
        assertTrue(before1.contains("[3:114] -A allowed -p udp -m udp --dport 53 -j ACCEPT"), before1.toString());
        assertTrue(before2.get(1).equals("*mangle") && before2.contains("*raw"), "newest table first: " + before2);
        old.exit(one); // the core takes the namespace operations away first: an update keeps the tables
        old.deactivate();
        IptablesCommand next = version(false, IptablesCommand.STATE_VERSION);
        assertNull(holder.deposits.get(IptablesCommand.LAYER), "taken");
        assertEquals(List.of(), holder.refusals);
        assertEquals(before1, next.save(one, null, true, AT));
        assertEquals(before2, next.save(two, null, true, AT));
        // the new version's rules count on from where the old ones were
        assertEquals(Verdict.ACCEPT, next.hook(udp("10.0.0.1", "8.8.8.8", 53), NfHook.FORWARD, one, dev("eth0"), null));
        assertTrue(next.save(one, "filter", true, AT).contains("[4:152] -A allowed -p udp -m udp --dport 53 -j ACCEPT"));
        assertTrue(next.save(one, "filter", true, AT).contains(":FORWARD DROP [1:38]"));
    }

    @Test
    void theOldVersionsTablesStillFilterAfterItsDeposit() {
        IptablesCommand old = oldVersionWithTraffic();
        old.deactivate();
        // IPv4 keeps the old hook function until the next version registers: it must still hold the rules
        assertEquals(Verdict.DROP, old.hook(udp("10.9.1.1", "10.0.0.2", 7), NfHook.LOCAL_IN, two, dev("eth0"), null));
    }

    @Test
    void aStopThatIsNoUpdateDepositsNothing() {
        IptablesCommand old = version(false, IptablesCommand.STATE_VERSION);
        ipt(old, one, "-A INPUT -j DROP");
        old.deactivate();
        assertTrue(holder.deposits.isEmpty());
    }

    @Test
    void aStateVersionItCannotReadIsRefusedAndTheNewVersionStartsEmpty() {
        IptablesCommand old = new IptablesCommand(null, holder, null, () -> true, IptablesCommand.STATE_VERSION + 1);
        ipt(old, one, "-A INPUT -j DROP");
        old.deactivate();
        IptablesCommand next = version(false, IptablesCommand.STATE_VERSION);
        assertEquals(List.of("this netfilter reads state version 1, the deposit is version 2"), holder.refusals);
        assertEquals(List.of("-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT"), next.run(one, "-S"));
    }

    @Test
    void hashlimitBucketsGoToTheNextVersion() {
        IptablesCommand old = version(true, IptablesCommand.STATE_VERSION);
        ipt(old, one, "-P INPUT DROP");
        ipt(old, one, "-A INPUT -p udp -m hashlimit --hashlimit-upto 1/min --hashlimit-burst 2 --hashlimit-mode srcip "
                + "--hashlimit-name per-src -j ACCEPT");
        NetDevice eth0 = dev("eth0");
        assertEquals(Verdict.ACCEPT, old.hook(udp("10.0.0.1", "10.0.0.9", 53), NfHook.LOCAL_IN, one, eth0, null));
        assertEquals(Verdict.ACCEPT, old.hook(udp("10.0.0.1", "10.0.0.9", 53), NfHook.LOCAL_IN, one, eth0, null));
        assertEquals(Verdict.DROP, old.hook(udp("10.0.0.1", "10.0.0.9", 53), NfHook.LOCAL_IN, one, eth0, null), "the burst is spent");
        assertEquals(Verdict.ACCEPT, old.hook(udp("10.0.0.2", "10.0.0.9", 53), NfHook.LOCAL_IN, one, eth0, null));
        List<String> proc = old.hashlimitFile(one, "per-src");
        assertEquals(2, proc.size(), proc.toString());
        old.exit(one);
        old.deactivate();
        IptablesCommand next = version(false, IptablesCommand.STATE_VERSION);
        assertEquals(List.of(), holder.refusals);
        List<String> adopted = next.hashlimitFile(one, "per-src");
        assertEquals(2, adopted.size(), "both keys are there: " + adopted);
        // 10.0.0.1's bucket is still empty: an update is no way around the limit
        assertEquals(Verdict.DROP, next.hook(udp("10.0.0.1", "10.0.0.9", 53), NfHook.LOCAL_IN, one, eth0, null));
        // 10.0.0.2 spent one of its two tokens before the update: one is left
        assertEquals(Verdict.ACCEPT, next.hook(udp("10.0.0.2", "10.0.0.9", 53), NfHook.LOCAL_IN, one, eth0, null));
        assertEquals(Verdict.DROP, next.hook(udp("10.0.0.2", "10.0.0.9", 53), NfHook.LOCAL_IN, one, eth0, null));
        // a new key starts full
        assertEquals(Verdict.ACCEPT, next.hook(udp("10.0.0.3", "10.0.0.9", 53), NfHook.LOCAL_IN, one, eth0, null));
    }
}
