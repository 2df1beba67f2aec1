package __PACKAGE__;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.Errno;
import org.modnet.api.net.NetException;

/** What `ip link add` gives the driver, without a stack: its argument checks. Stack tests go in the Pax Exam run. */
class __CLASS__DriverTest {
    @Test
    void anUnknownArgumentIsEinvalWithTheKindNamed() {
        NetException e = assertThrows(NetException.class, () -> new __CLASS__Driver().create(null, "x0", List.of("speed", "10")));
        assertEquals(Errno.EINVAL, e.errno());
        assertEquals("__NAME__: unknown argument \"speed\"", e.getMessage());
    }
}
