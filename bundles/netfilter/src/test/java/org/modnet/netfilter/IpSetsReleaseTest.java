package org.modnet.netfilter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.modnet.api.netfilter.IpSets;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.ServiceRegistration;

/** The IpSets service the iptables component gets by hand before DS binds it is given back. */
class IpSetsReleaseTest {
    private final AtomicInteger gets = new AtomicInteger();
    private final AtomicInteger ungets = new AtomicInteger();
    private final IpSets sets = (IpSets) Proxy.newProxyInstance(IpSets.class.getClassLoader(), new Class<?>[] { IpSets.class },
            (p, m, a) -> null);
    private final ServiceReference<?> ref = (ServiceReference<?>) Proxy.newProxyInstance(ServiceReference.class.getClassLoader(),
            new Class<?>[] { ServiceReference.class }, (p, m, a) -> m.getName().equals("equals") ? p == a[0] : m.getName().equals("hashCode") ? 1 : null);

    private BundleContext context() {
        ServiceRegistration<?> reg = (ServiceRegistration<?>) Proxy.newProxyInstance(ServiceRegistration.class.getClassLoader(),
                new Class<?>[] { ServiceRegistration.class }, (p, m, a) -> null);
        return (BundleContext) Proxy.newProxyInstance(BundleContext.class.getClassLoader(), new Class<?>[] { BundleContext.class },
                (p, m, a) -> switch (m.getName()) {
                    case "getServiceReference" -> a[0] == IpSets.class ? ref : null;
                    case "getService" -> {
                        gets.incrementAndGet();
                        yield sets;
                    }
                    case "ungetService" -> {
                        ungets.incrementAndGet();
                        yield true;
                    }
                    case "registerService" -> reg;
                    default -> null;
                });
    }

    private IptablesCommand made() {
        return new IptablesCommand(null, new NetfilterHandOverTest.Holder(), context(), () -> false, IptablesCommand.STATE_VERSION);
    }

    @Test
    void theServiceGotByHandIsReleasedOnceDsBindsIt() {
        IptablesCommand cmd = made();
        assertEquals(1, gets.get());
        cmd.setIpSets(sets);
        assertEquals(1, ungets.get());
        cmd.deactivate();
        assertEquals(1, ungets.get(), "released once, not twice");
    }

    @Test
    void theServiceGotByHandIsReleasedWhenTheComponentGoesFirst() {
        IptablesCommand cmd = made();
        cmd.deactivate();
        assertEquals(gets.get(), ungets.get());
        assertEquals(1, ungets.get());
    }
}
