package org.modnet.drivers.tap;

/** Run by {@link TapPermissionTest} as another user: tries to open a TAP and prints what {@link Tun#openTap} gave. */
public final class OpenTapProbe {
    private OpenTapProbe() {
    }

    public static void main(String[] args) {
        System.out.println(Tun.openTap(args[0], false, Tun.TUN_F_CSUM));
    }
}
