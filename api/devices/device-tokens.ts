/** The devices the API reports on (DeviceConfig[]), from the same devices.json the device workers read. */
export const DEVICES = Symbol('DEVICES');
