package org.modnet.ipv4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.InetAddress;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.inet.FibRule;
import org.modnet.api.inet.RouteEntry;
import org.modnet.api.net.DeviceSetup;
import org.modnet.api.net.Errno;
import org.modnet.api.net.IfAddress;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetException;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.net.TxResult;
import org.modnet.core.StandaloneCore;

/** The routing policy database: rules tried in priority order, each sending the lookup to a table, a goto or a reject. */
class FibRulesTest {
    private static final int NET_10_0_1 = 0x0a000100;
    private static final int HOST_10_0_1_5 = 0x0a000105;
    private static final int INTERNET = 0x08080808;

    private StandaloneCore stack;
    private NetNamespace ns;
    private NetDevice eth0;
    private NetDevice eth1;
    private FibRules rules;

    @BeforeEach
    void setUp() throws Exception {
        stack = StandaloneCore.manual(1, 64, System::nanoTime);
        ns = stack.core().addNamespace("r");
        eth0 = device("eth0", "192.168.0.1");
        eth1 = device("eth1", "192.168.1.1");
        rules = new FibRules(ns);
        rules.main.add(route(0, 0, 0xc0a800fe, eth0), false); // default via 192.168.0.254 dev eth0
    }

    private NetDevice device(String name, String address) throws Exception {
        NetDevice d = ns.register(DeviceSetup.ether(name, "test"), (skb, dev) -> {
            skb.free();
            return TxResult.OK;
        });
        d.addAddress(new IfAddress(InetAddress.getByName(address), 24, null, "global", name));
        d.open();
        return d;
    }

    @AfterEach
    void tearDown() {
        stack.shutdown();
    }

    private static RouteEntry route(int prefix, int len, int via, NetDevice dev) {
        return new RouteEntry("unicast", prefix, len, via, dev, 0, 0, "boot", "global");
    }

    /** A rule with only the fields a test names; the rest "not given", as {@code ip rule add} leaves them. */
    private static FibRule rule(long pref, String action, long table) {
        return new FibRule(pref, false, 0, 0, 0, 0, null, null, -1, -1, 0, 0, 0, 0, 0, 0, action, table, -1, -1);
    }

    private static FibRule from(long pref, int src, int len, long table) {
        return new FibRule(pref, false, src, len, 0, 0, null, null, -1, -1, 0, 0, 0, 0, 0, 0, "table", table, -1, -1);
    }

    private static FibRule fwmark(long pref, long mark, long mask, long table) {
        return new FibRule(pref, false, 0, 0, 0, 0, null, null, mark, mask, 0, 0, 0, 0, 0, 0, "table", table, -1, -1);
    }

    private RouteEntry out(int daddr, int saddr, int mark) {
        return rules.output(daddr, saddr, 0, mark, 0, 17, 40000, 53);
    }

    private void table100ViaEth1() throws NetException {
        rules.tableOrNew(100).add(route(0, 0, 0xc0a801fe, eth1), false);
    }

    @Test
    void theDefaultRulesAreLocalMainDefaultAndRouteByMain() {
        assertEquals(List.of(FibRule.lookup(0, 255), FibRule.lookup(32766, 254), FibRule.lookup(32767, 253)), rules.rules());
        assertEquals(eth0, out(INTERNET, 0, 0).dev());
    }

    @Test
    void aSourceRuleSendsThatSourcesTrafficByItsTableAndTheRestByMain() throws Exception {
        table100ViaEth1();
        rules.add(from(-1, NET_10_0_1, 24, 100));
        assertEquals(eth1, out(INTERNET, HOST_10_0_1_5, 0).dev(), "from 10.0.1.0/24: table 100");
        assertEquals(eth0, out(INTERNET, 0x0a000205, 0).dev(), "another source: main");
        assertEquals(eth0, out(INTERNET, 0, 0).dev(), "no source yet: main");
    }

    @Test
    void aRuleWithoutPriorityTakesOneBelowTheSecondRulesAndGoesBeforeIt() throws Exception {
        FibRule a = rules.add(from(-1, NET_10_0_1, 24, 100));
        FibRule b = rules.add(rule(-1, "blackhole", -1));
        assertEquals(32765, a.priority());
        assertEquals(32764, b.priority());
        assertEquals(List.of(0L, 32764L, 32765L, 32766L, 32767L), rules.rules().stream().map(FibRule::priority).toList());
    }

    @Test
    void rulesOfOnePriorityAreTriedInTheOrderTheyWereAdded() throws Exception {
        table100ViaEth1();
        rules.tableOrNew(200).add(route(0, 0, 0xc0a800fd, eth0), false);
        rules.add(rule(10, "table", 100));
        rules.add(rule(10, "table", 200));
        assertEquals(0xc0a801fe, out(INTERNET, 0, 0).gateway(), "the first added at 10 wins");
        assertEquals(List.of(100L, 200L), rules.rules().subList(1, 3).stream().map(FibRule::table).toList());
    }

    @Test
    void anFwmarkRuleSteersMarkedPacketsUnderItsMask() throws Exception {
        table100ViaEth1();
        rules.add(fwmark(-1, 1, 0xff, 100));
        assertEquals(eth1, out(INTERNET, 0, 1).dev());
        assertEquals(eth1, out(INTERNET, 0, 0x301).dev(), "bits outside the mask do not count");
        assertEquals(eth0, out(INTERNET, 0, 2).dev());
        assertEquals(eth0, out(INTERNET, 0, 0).dev());
    }

    @Test
    void notInvertsTheSelectors() throws Exception {
        table100ViaEth1();
        FibRule r = from(100, NET_10_0_1, 24, 100);
        rules.add(new FibRule(r.priority(), true, r.src(), r.srcLen(), 0, 0, null, null, -1, -1, 0, 0, 0, 0, 0, 0, "table", 100, -1, -1));
        assertEquals(eth0, out(INTERNET, HOST_10_0_1_5, 0).dev());
        assertEquals(eth1, out(INTERNET, 0x0a000205, 0).dev());
    }

    @Test
    void iifLoMatchesWhatThisHostSendsAndAnInDeviceWhatArrivesThere() throws Exception {
        table100ViaEth1();
        rules.add(new FibRule(100, false, 0, 0, 0, 0, "eth0", null, -1, -1, 0, 0, 0, 0, 0, 0, "table", 100, -1, -1));
        assertEquals(eth0, out(INTERNET, 0, 0).dev(), "sent here: iif is lo");
        assertEquals(eth1, rules.lookup(INTERNET, 0x01020304, eth0.ifindex(), 0, 0, 0, 17, 1, 2, null).dev(), "arrived on eth0");
        assertEquals(eth0, rules.lookup(INTERNET, 0x01020304, eth1.ifindex(), 0, 0, 0, 17, 1, 2, null).dev(), "arrived on eth1");
    }

    @Test
    void aRuleNamingAMissingDeviceMatchesNothingUntilTheDeviceComes() throws Exception {
        table100ViaEth1();
        rules.add(new FibRule(100, false, 0, 0, 0, 0, "wan0", null, -1, -1, 0, 0, 0, 0, 0, 0, "table", 100, -1, -1));
        NetDevice wan = ns.register(DeviceSetup.ether("wan0", "test"), (skb, d) -> TxResult.OK);
        wan.open(); // a device that is up: the namespace's generation moves and the rules resolve again
        assertEquals(eth1, rules.lookup(INTERNET, 0, wan.ifindex(), 0, 0, 0, 0, 0, 0, null).dev(), "resolved once it is there");
    }

    @Test
    void protocolTosAndPortRangesMustAllMatch() throws Exception {
        table100ViaEth1();
        rules.add(new FibRule(100, false, 0, 0, 0, 0, null, null, -1, -1, 0x10, 17, 1000, 2000, 53, 53, "table", 100, -1, -1));
        assertEquals(eth1, rules.output(INTERNET, 0, 0, 0, 0x10, 17, 1500, 53).dev());
        assertEquals(eth1, rules.output(INTERNET, 0, 0, 0, 0x12, 17, 1500, 53).dev(), "the ECN bits are not the TOS");
        assertEquals(eth0, rules.output(INTERNET, 0, 0, 0, 0x10, 6, 1500, 53).dev(), "tcp");
        assertEquals(eth0, rules.output(INTERNET, 0, 0, 0, 0x10, 17, 2001, 53).dev(), "sport out of range");
        assertEquals(eth0, rules.output(INTERNET, 0, 0, 0, 0x10, 17, 1500, 54).dev(), "dport");
        assertEquals(eth0, rules.output(INTERNET, 0, 0, 0, 0, 17, 1500, 53).dev(), "tos");
    }

    @Test
    void rejectActionsReturnTheirOwnResults() throws Exception {
        FibRule to = new FibRule(100, false, 0, 0, 0x0a090000, 16, null, null, -1, -1, 0, 0, 0, 0, 0, 0, "blackhole", -1, -1, -1);
        rules.add(to);
        assertSame(FibRules.BLACKHOLE, out(0x0a090001, 0, 0));
        assertEquals(Errno.EINVAL, Ipv4Output.error(out(0x0a090001, 0, 0)), "a blackhole rule is EINVAL to a local sender");
        assertEquals(eth0, out(0x0a0a0001, 0, 0).dev());
        rules.add(rule(50, "unreachable", -1));
        assertEquals(Errno.ENETUNREACH, Ipv4Output.error(out(INTERNET, 0, 0)));
        rules.add(rule(40, "prohibit", -1));
        assertEquals(Errno.EACCES, Ipv4Output.error(out(INTERNET, 0, 0)));
    }

    @Test
    void aGotoSkipsToItsTargetAndAnUnresolvedOneIsPassedOver() throws Exception {
        table100ViaEth1();
        rules.add(rule(10, "blackhole", -1));
        rules.add(new FibRule(5, false, 0, 0, 0, 0, null, null, -1, -1, 0, 0, 0, 0, 0, 0, "goto", -1, 20, -1));
        assertSame(FibRules.BLACKHOLE, out(INTERNET, 0, 0), "nothing at 20 yet: the goto passes");
        rules.add(rule(20, "table", 100));
        assertEquals(eth1, out(INTERNET, 0, 0).dev(), "goto 20 jumps over the blackhole at 10");
    }

    @Test
    void aBackwardGotoAndBadRangesAreRefusedInLinuxsWords() {
        NetException e = assertThrows(NetException.class,
                () -> rules.add(new FibRule(5, false, 0, 0, 0, 0, null, null, -1, -1, 0, 0, 0, 0, 0, 0, "goto", -1, 3, -1)));
        assertEquals("Backward goto not supported", e.getMessage());
        e = assertThrows(NetException.class,
                () -> rules.add(new FibRule(5, false, 0, 0, 0, 0, null, null, -1, -1, 0, 0, 5, 3, 0, 0, "table", 1, -1, -1)));
        assertEquals("Invalid sport range", e.getMessage());
        e = assertThrows(NetException.class,
                () -> rules.add(new FibRule(5, false, 0, 0, 0, 0, null, null, -1, -1, 1, 0, 0, 0, 0, 0, "table", 1, -1, -1)));
        assertEquals(Errno.EINVAL, e.errno());
    }

    @Test
    void suppressPrefixlengthRefusesTheDefaultRouteOfItsTable() throws Exception {
        table100ViaEth1();
        rules.main.add(route(0x0a050000, 16, 0, eth0), false);
        rules.add(new FibRule(10, false, 0, 0, 0, 0, null, null, -1, -1, 0, 0, 0, 0, 0, 0, "table", 254, -1, 0));
        rules.add(rule(20, "table", 100));
        assertEquals(eth0, out(0x0a050001, 0, 0).dev(), "10.5.0.0/16 is longer than /0: taken");
        assertEquals(eth1, out(INTERNET, 0, 0).dev(), "main's default is suppressed: table 100's");
    }

    @Test
    void aThrowRouteAndAMissingTablePassTheLookupOn() throws Exception {
        rules.add(rule(10, "table", 300));
        assertEquals(eth0, out(INTERNET, 0, 0).dev(), "no table 300: main");
        rules.tableOrNew(300).add(new RouteEntry("throw", 0, 0, 0, null, 0, 0, "boot", "global"), false);
        assertEquals(eth0, out(INTERNET, 0, 0).dev(), "a throw route: main");
    }

    @Test
    void theSameRuleTwiceIsEexistAndDeleteTakesTheFirstMatchOnly() throws Exception {
        rules.add(from(100, NET_10_0_1, 24, 100));
        assertEquals(Errno.EEXIST, assertThrows(NetException.class, () -> rules.add(from(100, NET_10_0_1, 24, 100))).errno());
        rules.add(from(200, NET_10_0_1, 24, 100));
        FibRule gone = rules.delete(from(-1, NET_10_0_1, 24, -1));
        assertEquals(100, gone.priority());
        assertEquals(200, rules.delete(from(-1, NET_10_0_1, 24, -1)).priority());
        assertEquals(Errno.ENOENT, assertThrows(NetException.class, () -> rules.delete(from(-1, NET_10_0_1, 24, -1))).errno());
        assertEquals(Errno.ENOENT, assertThrows(NetException.class, () -> rules.delete(rule(-1, null, 999))).errno());
    }

    @Test
    void tableZeroTakesTheFirstIdWithoutATable() throws Exception {
        rules.tableOrNew(1);
        assertEquals(2, rules.add(rule(10, "table", 0)).table());
    }

    @Test
    void withOnlyTheDefaultRulesTheDefaultTableIsTriedAfterMain() throws Exception {
        rules.main.delete(0, 0, -1);
        assertNull(out(INTERNET, 0, 0));
        rules.tableOrNew(253).add(route(0, 0, 0xc0a801fe, eth1), false);
        long[] table = { 0 };
        assertEquals(eth1, rules.lookup(INTERNET, 0, 1, 0, 0, 0, 0, 0, 0, table).dev());
        assertEquals(253, table[0]);
    }

    @Test
    void deletingTheAddedRulesGoesBackToTheShortcut() throws Exception {
        table100ViaEth1();
        rules.add(rule(10, "table", 100));
        assertEquals(eth1, out(INTERNET, 0, 0).dev());
        rules.delete(rule(10, null, -1));
        assertEquals(FibRule.defaults(), rules.rules());
        assertEquals(eth0, out(INTERNET, 0, 0).dev());
    }

    @Test
    void aRouteAddedToTheLocalTableIsFoundWithOnlyTheDefaultRules() throws Exception {
        rules.tableOrNew(255).add(new RouteEntry("blackhole", 0x0a070000, 16, 0, null, 0, 0, "boot", "global"), false);
        assertEquals("blackhole", out(0x0a070001, 0, 0).type(), "the local rule (0) comes before main");
        assertEquals(eth0, out(INTERNET, 0, 0).dev());
    }
}
