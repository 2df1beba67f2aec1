package __PACKAGE__;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.reflect.Proxy;

import org.junit.jupiter.api.Test;
import org.modnet.api.net.NetNamespace;

/** The per-namespace life cycle and the MIB; packet tests go in a stack test (modnet's StandaloneCore). */
class __CLASS__ProtocolTest {
    /** A namespace that is only an identity: all this test needs of one. */
    private static NetNamespace namespace() {
        return (NetNamespace) Proxy.newProxyInstance(NetNamespace.class.getClassLoader(), new Class<?>[] { NetNamespace.class },
                (p, m, a) -> switch (m.getName()) {
                    case "hashCode" -> System.identityHashCode(p);
                    case "equals" -> p == a[0];
                    case "name" -> "test";
                    default -> null;
                });
    }

    @Test
    void stateComesWithInitAndGoesWithExit() {
        __CLASS__Protocol p = new __CLASS__Protocol();
        NetNamespace ns = namespace();
        p.init(ns);
        assertNotNull(p.net(ns));
        assertEquals(0L, p.counters(ns).get("InDatagrams"));
        p.exit(ns);
        assertNull(p.net(ns));
    }
}
