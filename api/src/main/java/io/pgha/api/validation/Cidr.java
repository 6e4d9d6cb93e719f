package io.pgha.api.validation;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/** An address range as pg_hba.conf writes it: an IPv4 or IPv6 address, a slash, a prefix length. */
final class Cidr {
    private static final Pattern IPV4 = Pattern.compile("^(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}$");
    /** Only hex digits, colons and dots: InetAddress then parses a literal and never looks up a name. */
    private static final Pattern IPV6_CHARS = Pattern.compile("^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$");

    private Cidr() {
    }

    static boolean isValid(String cidr) {
        if (cidr == null) {
            return false;
        }
        int slash = cidr.indexOf('/');
        if (slash < 0 || !cidr.substring(slash + 1).matches("^[0-9]{1,3}$")) {
            return false;
        }
        String address = cidr.substring(0, slash);
        int prefix = Integer.parseInt(cidr.substring(slash + 1));
        if (IPV4.matcher(address).matches()) {
            return prefix <= 32;
        }
        if (!IPV6_CHARS.matcher(address).matches()) {
            return false;
        }
        try {
            return InetAddress.getByName(address).getAddress().length == 16 && prefix <= 128;
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
