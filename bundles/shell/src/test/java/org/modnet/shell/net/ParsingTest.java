package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ParsingTest {

    @Test
    void ipv4AcceptsOneToFourDecimalParts() {
        assertEquals("10.0.0.1", Ipv4.parse("10.0.0.1").getHostAddress());
        assertEquals("10.1.0.0", Ipv4.parse("10.1").getHostAddress());
    }

    @Test
    void ipv4RejectsWhatIsNotAnAddressWithoutLookingItUp() {
        for (String bad : new String[] { "", ".", "1..2", "256.0.0.1", "1.2.3.4.5", "localhost", "1.2.3.-4", "0x1.2.3.4",
                "1.2.3.4 " }) {
            assertNull(Ipv4.parse(bad), bad);
        }
    }

    @Test
    void prefixWithoutLengthIsAHostPrefix() {
        Ipv4.Prefix p = Ipv4.parsePrefix("192.0.2.1");
        assertEquals(32, p.length());
        assertFalse(p.prefixGiven());
    }

    @Test
    void prefixRejectsBadLengthsAndMasks() {
        for (String bad : new String[] { "10.0.0.1/", "10.0.0.1/33", "10.0.0.1/-1", "10.0.0.1/255.0.255.0", "/24",
                "10.0.0.1/24/1" }) {
            assertNull(Ipv4.parsePrefix(bad), bad);
        }
        assertEquals(0, Ipv4.parsePrefix("0.0.0.0/0").length());
    }

    @Test
    void broadcastSetsTheHostBits() {
        assertEquals("10.0.3.255", Ipv4.broadcast(Ipv4.parse("10.0.1.1"), 22).getHostAddress());
    }

    @Test
    void integersAreDecimalHexOrOctalAndNothingElse() {
        assertEquals(1500, Iproute.parseInt("1500"));
        assertEquals(16, Iproute.parseInt("0x10"));
        assertEquals(8, Iproute.parseInt("010"));
        assertEquals(-5, Iproute.parseInt("-5"));
        for (String bad : new String[] { "", "-", "0x", "0x-5", "08", "1e3", "99999999999", "1 " }) {
            assertNull(Iproute.parseInt(bad), bad);
        }
    }

    @Test
    void interfaceNamesFollowCheckIfname() {
        assertTrue(Iproute.validIfName("veth0"));
        assertFalse(Iproute.validIfName("a/b"));
        assertFalse(Iproute.validIfName("sixteen-chars-xx"));
        assertFalse(Iproute.validIfName(""));
        assertFalse(Iproute.validIfName("a b"));
    }

    @Test
    void sysctlNamesAreDottedWhicheverSeparatorIsUsed() {
        assertEquals("net.core.dev_weight", SysctlCommand.dotted("net/core/dev_weight"));
        assertEquals("net.ipv4.conf.eth0/100.forwarding", SysctlCommand.dotted("net/ipv4/conf/eth0.100/forwarding"));
        assertEquals("net/ipv4/conf/eth0.100/forwarding", SysctlCommand.slashed("net.ipv4.conf.eth0/100.forwarding"));
    }

    @Test
    void linkFactoryFilterValuesAreEscaped() {
        assertEquals("a\\*\\(b\\)\\\\", NetCommands.escape("a*(b)\\"));
    }
}
