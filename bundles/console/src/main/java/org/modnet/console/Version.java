package org.modnet.console;

import org.osgi.framework.Bundle;
import org.osgi.framework.FrameworkUtil;

/** The running modnet version: the console bundle's. */
final class Version {
    private Version() {
    }

    static String of(Class<?> type) {
        Bundle bundle = FrameworkUtil.getBundle(type);
        return bundle == null ? "(unbundled)" : bundle.getVersion().toString();
    }
}
