export default { key: 'startup', title: 'startup', async run() { return { figures: {}, rows: [] }; } };
