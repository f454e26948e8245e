/** Exit code of the sandbox runner meaning "the sandbox could not be set up" (as env(1) and chroot(1) use 125-127). */
export const SETUP_FAILED_EXIT = 125;
