package org.modnet.shell.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.inet.Neighbour;
import org.modnet.api.inet.NudState;
import org.modnet.api.net.MacAddress;

/** net-tools' arp, byte for byte as it printed the same table on Linux (net-tools 2.10). */
class ArpCommandTest {
    private final FakeDevice v0 = FakeDevice.ether("v0", "veth", "02:00:00:00:00:01");
    private final List<Neighbour> table = List.of(
            new Neighbour(0x0a040407, v0, null, NudState.INCOMPLETE, 0, 0, 0, 1, 1),
            new Neighbour(0x0a040408, v0, MacAddress.parse("02:00:00:00:00:08"), NudState.STALE, 0, 0, 0, 0, 0),
            new Neighbour(0x0a040409, v0, MacAddress.parse("02:00:00:00:00:09"), NudState.PERMANENT, 0, 0, 0, 0, 0));

    @Test
    void theTableForm() {
        assertEquals(List.of(
                "Address                  HWtype  HWaddress           Flags Mask            Iface",
                "10.4.4.7                         (incomplete)                              v0",
                "10.4.4.8                 ether   02:00:00:00:00:08   C                     v0",
                "10.4.4.9                 ether   02:00:00:00:00:09   CM                    v0"), ArpCommand.lines(table, "-n"));
    }

    @Test
    void theBsdFormAndOneHost() {
        assertEquals(List.of(
                "? (10.4.4.7) at <incomplete> on v0",
                "? (10.4.4.8) at 02:00:00:00:00:08 [ether] on v0",
                "? (10.4.4.9) at 02:00:00:00:00:09 [ether] PERM on v0"), ArpCommand.lines(table, "-an"));
        assertEquals(List.of("Address                  HWtype  HWaddress           Flags Mask            Iface",
                "10.4.4.9                 ether   02:00:00:00:00:09   CM                    v0"), ArpCommand.lines(table, "-n", "10.4.4.9"));
        assertEquals(List.of("10.4.4.99 (10.4.4.99) -- no entry"), ArpCommand.lines(table, "-n", "10.4.4.99"));
        assertEquals(List.of(), ArpCommand.lines(List.of(), "-n"), "an empty table prints nothing, not even the header");
    }
}
