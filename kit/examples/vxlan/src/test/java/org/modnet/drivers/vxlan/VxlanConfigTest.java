package org.modnet.drivers.vxlan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;

/** iproute2's words for {@code ip link add ... type vxlan}. */
class VxlanConfigTest {
    private static VxlanConfig parse(String words) throws NetException {
        return VxlanConfig.parse(null, List.of(words.split(" ")));
    }

    @Test
    void takesIdRemoteAndDstport() throws NetException {
        VxlanConfig c = parse("id 42 remote 10.0.0.2 dstport 4789");
        assertEquals(42, c.vni());
        assertEquals(0x0a000002, c.remote());
        assertEquals(4789, c.dstport());
    }

    @Test
    void withoutDstportTheLinuxDefault8472() throws NetException {
        assertEquals(8472, parse("id 1 remote 10.0.0.2").dstport());
    }

    @Test
    void aMissingVniIsRefusedInIproute2sWords() {
        NetException e = assertThrows(NetException.class, () -> parse("remote 10.0.0.2"));
        assertEquals(Errno.EINVAL, e.errno());
        assertEquals("vxlan: missing virtual network identifier", e.getMessage());
    }

    @Test
    void aVniAbove24BitsIsInvalid() {
        assertThrows(NetException.class, () -> parse("id 16777216"));
    }

    @Test
    void aBadAddressAndAnUnknownWordAreInvalid() {
        assertThrows(NetException.class, () -> parse("id 1 remote 10.0.0"));
        assertThrows(NetException.class, () -> parse("id 1 remote 10.0.0.256"));
        assertThrows(NetException.class, () -> parse("id 1 mtu 9000"));
    }
}
