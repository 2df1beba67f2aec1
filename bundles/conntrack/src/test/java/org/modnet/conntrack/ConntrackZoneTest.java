package org.modnet.conntrack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.netfilter.NfCtTemplate;
import org.modnet.api.netfilter.Verdict;
import org.modnet.api.skb.SkBuff;

/** Conntrack zones: a template from CT --zone or ct zone set puts a flow in its zone, and equal tuples of two zones are two flows. */
class ConntrackZoneTest {
    private final long now = 1_000_000;
    private final ConntrackTable t = new ConntrackTable(new TestSysctl(), () -> now, 64);
    private final Packets p = new Packets();
    private static final NfCtTemplate ZONE5 = new NfCtTemplate(5);

    private int pass(SkBuff skb, NfCtTemplate tmpl) {
        if (tmpl != null) {
            skb.nfct(tmpl, SkBuff.IP_CT_NEW); // what the raw table's CT target left
        }
        assertEquals(Verdict.ACCEPT, t.in(skb));
        assertEquals(Verdict.ACCEPT, t.confirm(skb));
        int info = skb.nfctInfo();
        assertTrue(!(skb.nfct() instanceof NfCtTemplate), "conntrack replaced the template with the entry");
        skb.free();
        return info;
    }

    @Test
    void aTemplatesZoneIsTheNewFlowsZone() {
        pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53), ZONE5);
        NfConn ct = t.entries().get(0);
        assertEquals(5, ct.zone);
        assertEquals(5, ((org.modnet.api.netfilter.NfConnMark) ct).zone());
    }

    @Test
    void equalTuplesInTwoZonesAreTwoFlows() {
        assertEquals(SkBuff.IP_CT_NEW, pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53), null));
        assertEquals(SkBuff.IP_CT_NEW, pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53), ZONE5));
        assertEquals(2, t.entries().size());
        // a reply finds its flow only in its own zone
        assertEquals(SkBuff.IP_CT_ESTABLISHED + SkBuff.IP_CT_IS_REPLY, pass(p.udp("10.0.0.2", 53, "10.0.0.1", 5000), ZONE5));
        List<NfConn> l = t.entries();
        NfConn z5 = l.stream().filter(c -> c.zone == 5).findFirst().orElseThrow();
        NfConn z0 = l.stream().filter(c -> c.zone == 0).findFirst().orElseThrow();
        assertTrue(z5.has(NfConn.IPS_SEEN_REPLY));
        assertTrue(!z0.has(NfConn.IPS_SEEN_REPLY), "the zone-0 flow saw no reply");
    }

    @Test
    void conntrackListsTheZoneOnlyWhenItIsNotZeroAndProcAlways() {
        pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53), ZONE5);
        NfConn ct = t.entries().get(0);
        assertEquals("udp      17 30 src=10.0.0.1 dst=10.0.0.2 sport=5000 dport=53 [UNREPLIED] src=10.0.0.2 dst=10.0.0.1 "
                + "sport=53 dport=5000 mark=0 zone=5 use=1", Conntrack.line(t, ct, false));
        assertTrue(Conntrack.line(t, ct, true).endsWith(" mark=0 zone=5 use=2"));
    }

    @Test
    void theZoneGoesAlongOnAHandOverAndAZeroZoneKeepsTheOldLayout() {
        pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53), ZONE5);
        pass(p.udp("10.0.0.1", 5001, "10.0.0.2", 53), null);
        ConntrackTable next = new ConntrackTable(new TestSysctl(), () -> now, 64);
        for (NfConn ct : t.entries()) {
            String line = t.export(ct);
            assertEquals(ct.zone == 0 ? 18 : 19, line.split(" ").length);
            assertTrue(next.adopt(line));
        }
        assertEquals(List.of(0, 5), next.entries().stream().map(c -> c.zone).sorted().toList());
    }

    @Test
    void listAndDeleteFilterByZoneAsConntrackToolsReadsIt() {
        pass(p.udp("10.0.0.1", 5000, "10.0.0.2", 53), ZONE5);
        pass(p.udp("10.0.0.1", 5001, "10.0.0.2", 53), null);
        List<String> z5 = Conntrack.run(t, "-L", "-w", "5");
        assertEquals(2, z5.size());
        assertTrue(z5.get(0).contains("sport=5000") && z5.get(0).contains(" zone=5 "), z5.get(0));
        assertEquals("conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.", z5.get(1));
        List<String> z0 = Conntrack.run(t, "-L", "--zone", "0");
        assertTrue(z0.get(0).contains("sport=5001"), z0.get(0));
        assertEquals(2, z0.size());
        // strtoul into a u16: 0x5 is 5, 65541 wraps to 5, text with no digits is 0
        assertEquals(2, Conntrack.run(t, "-L", "--orig-zone", "0x5").size());
        assertEquals(2, Conntrack.run(t, "-L", "-w", "65541").size());
        assertTrue(Conntrack.run(t, "-L", "-w", "abc").get(0).contains("sport=5001"));
        assertEquals(1, Conntrack.run(t, "-L", "-w", "7").size(), "no flow in zone 7: only the summary");
        assertEquals("conntrack v1.4.7 (conntrack-tools): 1 flow entries have been deleted.", Conntrack.run(t, "-D", "-w", "5").get(1));
        assertEquals(List.of(0), t.entries().stream().map(c -> c.zone).toList(), "zone 0's flow stays");
    }
}
